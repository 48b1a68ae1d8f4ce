// An HTTP server on 127.0.0.1 whose every request makes one call to a backend through a
// keep-alive agent of at most 4 sockets, then answers with the backend's status.
// Usage: node node_frontend.js BACKEND_PORT. Prints "port N" once listening.
const http = require('http');
const backendPort = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const server = http.createServer((req, res) => {
  http.get({ host: '127.0.0.1', port: backendPort, path: '/backend' + req.url, agent }, (back) => {
    back.resume();
    back.on('end', () => {
      res.writeHead(back.statusCode, { 'Content-Type': 'text/plain' });
      res.end('via node\n');
    });
  }).on('error', (e) => {
    res.writeHead(502);
    res.end(String(e));
  });
});
server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
