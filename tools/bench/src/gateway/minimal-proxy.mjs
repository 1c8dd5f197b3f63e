// The floor for any Node gateway: node:http in, undici out, bytes piped back. No parsing.
import { createServer } from "node:http";
import { pipeline } from "node:stream";
import { Pool } from "undici";

const upstream = new URL(process.env.UPSTREAM_URL ?? "");
const pool = new Pool(upstream.origin, { keepAliveTimeout: 60_000 });
const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "host"]);

createServer((req, res) => {
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
  pool.request({ method: req.method, path: req.url, headers, body: req }).then(
    ({ statusCode, headers: upHeaders, body }) => {
      const out = {};
      for (const [k, v] of Object.entries(upHeaders)) if (!HOP.has(k)) out[k] = v;
      res.writeHead(statusCode, out);
      pipeline(body, res, () => {});
    },
    () => {
      res.writeHead(502).end();
    },
  );
}).listen(0, "127.0.0.1");
