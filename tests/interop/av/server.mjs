// A tiny fake Alpha Vantage for warden's news_sentiment tool (loopback only).
//
//   node av/server.mjs     (env: AV_PORT, default 9410; AV_API_KEY, default "interop-av-key")
//
// GET /query?function=NEWS_SENTIMENT&tickers=T&apikey=K answers like the real API
// (REFERENCE.md §5; errors as HTTP 200 with "Error Message"):
//   apikey ≠ AV_API_KEY      → {"Error Message": "… invalid API key …"}
//   tickers=ACME             → the fixture in av/fixture.mjs (2 articles mention ACME)
//   any other ticker         → {"items":"0", …, "feed": []}
// GET /__stats → {"requests": n, "authorization_headers": n, "last_tickers": "…"} so the
// checks can prove warden calls upstream and never forwards the caller's bearer token.

import http from 'node:http';

import { NEWS_SENTIMENT_ACME, SENTIMENT_DEFINITION, RELEVANCE_DEFINITION } from './fixture.mjs';

const PORT = Number(process.env.AV_PORT || 9410);
const API_KEY = process.env.AV_API_KEY || 'interop-av-key';

const stats = { requests: 0, authorization_headers: 0, last_tickers: null };

function json(res, status, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, `http://127.0.0.1:${PORT}`);
  // Never log the query string: it carries the API key.
  res.on('finish', () => process.stderr.write(`[av] ${req.method} ${url.pathname} ${res.statusCode}\n`));
  if (url.pathname === '/__stats') {
    json(res, 200, stats);
    return;
  }
  if (url.pathname !== '/query' || req.method !== 'GET') {
    json(res, 404, { error: 'not found' });
    return;
  }
  stats.requests += 1;
  if (req.headers.authorization) stats.authorization_headers += 1;
  const q = url.searchParams;
  stats.last_tickers = q.get('tickers');
  if (q.get('apikey') !== API_KEY) {
    json(res, 200, {
      'Error Message': 'the parameter apikey is invalid or missing. Please claim your free API key on (https://www.alphavantage.co/support/#api-key).',
    });
    return;
  }
  if (q.get('function') !== 'NEWS_SENTIMENT' || !q.get('tickers')) {
    json(res, 200, { 'Error Message': 'Invalid API call. Please retry or visit the documentation for NEWS_SENTIMENT.' });
    return;
  }
  if (q.get('tickers') === 'ACME') {
    json(res, 200, NEWS_SENTIMENT_ACME);
    return;
  }
  json(res, 200, {
    items: '0',
    sentiment_score_definition: SENTIMENT_DEFINITION,
    relevance_score_definition: RELEVANCE_DEFINITION,
    feed: [],
  });
});

server.listen(PORT, '127.0.0.1', () => process.stderr.write(`[av] listening on 127.0.0.1:${PORT}\n`));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
