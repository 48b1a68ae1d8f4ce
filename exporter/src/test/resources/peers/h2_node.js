// An HTTP/2 (h2c) server and client on node's http2 module (nghttp2 inside), for the agent's tests.
//   node h2_node.js server            prints "port N"; /hello -> 200 "hello\n", /missing -> 404,
//                                      /slow -> never answered, /trailers -> 200 with a trailer
//   node h2_node.js client URL        on one connection: /hello, /missing and /trailers at once,
//                                      /slow cancelled by the client (RST_STREAM CANCEL) once the
//                                      others are done, then the session closed (GOAWAY); prints
//                                      "path status" per answered stream
//   node h2_node.js late URL          opens a session, GET /late/1, prints "ready" and waits for a
//                                      line on stdin, then GET /late/1 again and GET /late/2-<n>
'use strict';
const http2 = require('http2');
const readline = require('readline');

const mode = process.argv[2];
if (mode === 'server') {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const path = headers[':path'];
    if (path === '/slow') {
      stream.on('error', () => {});
      return; // answered never; the client cancels
    }
    if (path === '/missing') {
      stream.respond({ ':status': 404 });
      stream.end();
      return;
    }
    if (path === '/trailers') {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc' }));
      stream.end('with trailers\n');
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end('hello\n');
  });
  server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
} else if (mode === 'client') {
  const session = http2.connect(process.argv[3]);
  const get = (path) => new Promise((resolve) => {
    const req = session.request({ ':path': path });
    req.on('response', (h) => { req.resume(); req.on('end', () => resolve(path + ' ' + h[':status'])); });
  });
  const slow = session.request({ ':path': '/slow' });
  slow.on('error', () => {});
  Promise.all([get('/hello'), get('/missing'), get('/trailers')]).then((lines) => {
    lines.forEach((l) => console.log(l));
    slow.close(http2.constants.NGHTTP2_CANCEL);
    setTimeout(() => session.close(), 100);
  });
} else if (mode === 'late') {
  const session = http2.connect(process.argv[3]);
  const get = (path) => new Promise((resolve) => {
    const req = session.request({ ':path': path, 'user-agent': 'late-client/1', 'x-tenant': 'acme' });
    req.on('response', (h) => { req.resume(); req.on('end', () => resolve(path + ' ' + h[':status'])); });
  });
  get('/late/1').then((line) => {
    console.log(line);
    console.log('ready');
    const rl = readline.createInterface({ input: process.stdin });
    rl.once('line', (n) => {
      get('/late/1').then((a) => get('/late/2-' + n.trim()).then((b) => {
        console.log(a);
        console.log(b);
        session.close();
        rl.close();
      }));
    });
  });
}
