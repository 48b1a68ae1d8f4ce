// node's https server (OpenSSL linked into node), on 127.0.0.1 only: "server CERT KEY" answers
// GET with "from node\n" and prints "port N"; "client URL..." fetches each URL in turn on one
// keep-alive connection and prints each status.
const https = require("https");
const fs = require("fs");
const [mode, ...args] = process.argv.slice(2);
if (mode === "server") {
  const server = https.createServer({ cert: fs.readFileSync(args[0]), key: fs.readFileSync(args[1]) }, (req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end("from node\n");
  });
  server.listen(0, "127.0.0.1", () => console.log("port " + server.address().port));
} else {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  (async () => {
    for (const url of args) {
      const status = await new Promise((resolve, reject) => {
        https.get(url, { agent, rejectUnauthorized: false }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode));
        }).on("error", reject);
      });
      console.log(status);
    }
    agent.destroy();
  })();
}
