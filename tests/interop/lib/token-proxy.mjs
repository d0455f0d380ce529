// A small token-injecting HTTP proxy for tools that send no Authorization header (the
// official conformance suite): every request is forwarded unchanged to the upstream origin
// — method, path, query, body and every header including Host and Origin (so DNS-rebinding
// checks reach warden as sent) — with `Authorization: Bearer <token>` added when the
// request carries none. Responses (SSE included) stream back unbuffered.
//
//   IOP_PROXY_TOKEN=… node lib/token-proxy.mjs LISTEN_PORT UPSTREAM_ORIGIN
//
// Loopback only. Prints "listening" on stderr when ready. The token is never logged.

import http from 'node:http';

const [portArg, upstreamArg] = process.argv.slice(2);
const token = process.env.IOP_PROXY_TOKEN;
if (!portArg || !upstreamArg || !token) {
  process.stderr.write('usage: IOP_PROXY_TOKEN=… node lib/token-proxy.mjs LISTEN_PORT UPSTREAM_ORIGIN\n');
  process.exit(2);
}
const upstream = new URL(upstreamArg);
if (upstream.hostname !== '127.0.0.1' && upstream.hostname !== 'localhost') {
  process.stderr.write('the upstream must be on loopback\n');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true });

const server = http.createServer((req, res) => {
  const headers = { ...req.headers };
  if (!headers.authorization) headers.authorization = `Bearer ${token}`;
  const out = http.request({
    host: upstream.hostname,
    port: upstream.port || 80,
    method: req.method,
    path: req.url,
    headers, // Host and Origin exactly as the client sent them
    agent,
  }, (up) => {
    res.writeHead(up.statusCode, up.statusMessage, up.rawHeaders);
    res.flushHeaders();
    up.pipe(res);
  });
  out.on('error', (err) => {
    process.stderr.write(`[proxy] upstream error ${err.code || err.message} for ${req.method} ${req.url.split('?')[0]}\n`);
    if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
    res.end('bad gateway\n');
  });
  // The client went away mid-response (e.g. closed an SSE stream): drop the upstream too.
  res.on('close', () => { if (!res.writableFinished) out.destroy(); });
  req.pipe(out);
});

server.listen(Number(portArg), '127.0.0.1', () => {
  process.stderr.write(`[proxy] listening on 127.0.0.1:${portArg} → ${upstream.origin}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 500).unref();
  });
}
