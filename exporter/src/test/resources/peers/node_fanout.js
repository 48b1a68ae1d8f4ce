// An HTTP server on 127.0.0.1 (one event loop) whose every request makes two concurrent calls to
// a backend, /b1<path> and /b2<path>, through a keep-alive agent of at most 8 sockets, and answers
// once both are back. Usage: node node_fanout.js BACKEND_PORT. Prints "port N" once listening.
const http = require('http');
const backendPort = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function call(path) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: backendPort, path, agent }, (back) => {
      back.resume();
      back.on('end', () => resolve(back.statusCode));
    }).on('error', reject);
  });
}

const server = http.createServer((req, res) => {
  Promise.all([call('/b1' + req.url), call('/b2' + req.url)]).then((codes) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(codes.join(',') + '\n');
  }, (e) => {
    res.writeHead(502);
    res.end(String(e));
  });
});
server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
