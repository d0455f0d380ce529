// MCP client helpers for the warden checks: the real TypeScript SDK client over Streamable
// HTTP or the legacy HTTP+SSE transport, a fetch recorder (what the SDK asked for, in which
// order, without secrets), raw JSON-RPC POSTs for exact status/header checks, and an
// in-memory OAuthClientProvider for the authorization-code flow with a headless browser.
//
// Locations come from the environment (run.sh sets them): MCP_RESOURCE (the MCP URL),
// IOP_AV_URL (fake Alpha Vantage origin), plus lib/settings.mjs for the AS.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { MCP_RESOURCE } from './settings.mjs';
import { followAuthorization } from './tokens.mjs';

/** A failed expectation; its message is the check's one-line reason (never a token). */
export class CheckFailed extends Error {}

export function expect(cond, why) {
  if (!cond) throw new CheckFailed(why);
}

export const show = (v) => JSON.stringify(v);

/** The MCP endpoint warden serves, e.g. http://127.0.0.1:10000/mcp. */
export const MCP_URL = MCP_RESOURCE;
/** Its origin (where /sse, /.well-known/* and /dev/* live). */
export const ORIGIN = new URL(MCP_URL).origin;
/** The fake Alpha Vantage origin (av/server.mjs). */
export const AV_URL = process.env.IOP_AV_URL || 'http://127.0.0.1:9410';

const CLIENT_INFO = { name: 'warden-interop', version: '1.0.0' };

/**
 * A fetch that records every request the SDK makes: method, origin + path (no query), the
 * response status, and for token requests the form parameters except secrets
 * (`grant_type`, `resource`, `scope`, `code_verifier` presence). Never records headers.
 */
export function recordingFetch() {
  const log = [];
  const fn = async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init.method || (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const entry = { method, url: `${url.origin}${url.pathname}` };
    const body = init.body;
    if (body instanceof URLSearchParams || (typeof body === 'string' && /grant_type=/.test(body))) {
      const form = new URLSearchParams(body);
      entry.form = {
        grant_type: form.get('grant_type'),
        resource: form.get('resource'),
        scope: form.get('scope'),
      };
    }
    log.push(entry);
    const res = await fetch(input, init);
    entry.status = res.status;
    entry.wwwAuthenticate = res.headers.get('www-authenticate');
    return res;
  };
  return { fetch: fn, log };
}

/** Short form of a recorded request for failure messages: "POST /mcp 401". */
export function brief(entry) {
  return `${entry.method} ${new URL(entry.url).pathname} ${entry.status ?? '-'}`;
}

/**
 * Connects the SDK client. Options: `transport` ('http' | 'sse'), `token` (static bearer
 * header), `authProvider` (OAuthClientProvider), `fetch` (e.g. a recordingFetch), `url`.
 */
export async function connect({ transport = 'http', token, authProvider, fetch: fetchFn, url } = {}) {
  const requestInit = token ? { headers: { Authorization: `Bearer ${token}` } } : undefined;
  const target = new URL(url || (transport === 'sse' ? `${ORIGIN}/sse` : MCP_URL));
  const options = { requestInit, authProvider, fetch: fetchFn };
  const t = transport === 'sse'
    ? new SSEClientTransport(target, options)
    : new StreamableHTTPClientTransport(target, options);
  const client = new Client(CLIENT_INFO, { capabilities: {} });
  await client.connect(t);
  return { client, transport: t };
}

/** Calls a tool; returns the result (throws on JSON-RPC / HTTP errors). */
export async function callTool(client, name, args = {}) {
  return client.callTool({ name, arguments: args });
}

/** whoami's structuredContent, failing clearly when the call was an error. */
export async function whoami(client) {
  const r = await callTool(client, 'whoami');
  expect(!r.isError, `whoami returned isError: ${textOf(r).slice(0, 200)}`);
  expect(r.structuredContent && typeof r.structuredContent === 'object', 'whoami has no structuredContent');
  return r.structuredContent;
}

export function textOf(result) {
  return (result?.content || []).filter((c) => c.type === 'text').map((c) => c.text).join(' ');
}

/** tools/list names. */
export async function toolNames(client) {
  const { tools } = await client.listTools();
  return tools.map((t) => t.name).sort();
}

/** Raw POST of one JSON-RPC message to the MCP endpoint (for exact statuses and headers). */
export async function rawPost(message, { token, sessionId, url = MCP_URL, headers = {} } = {}) {
  const h = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    ...headers,
  };
  if (token) h.Authorization = `Bearer ${token}`;
  if (sessionId) h['Mcp-Session-Id'] = sessionId;
  const res = await fetch(url, { method: 'POST', headers: h, body: JSON.stringify(message) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: CLIENT_INFO },
};

/** Parses `Bearer a="b", c="d"` into { a: 'b', c: 'd' } (null when not Bearer). */
export function parseBearerChallenge(header) {
  if (!header || !/^Bearer\b/i.test(header)) return null;
  const params = {};
  for (const m of header.matchAll(/([A-Za-z_]+)="((?:[^"\\]|\\.)*)"/g)) params[m[1]] = m[2];
  return params;
}

/** The PRM URL warden must advertise for MCP_URL (path-suffixed form). */
export function prmUrl() {
  const u = new URL(MCP_URL);
  return `${u.origin}/.well-known/oauth-protected-resource${u.pathname === '/' ? '' : u.pathname}`;
}

/** Fake Alpha Vantage counters: { requests, authorization_headers, last_tickers }. */
export async function avStats() {
  const res = await fetch(`${AV_URL}/__stats`);
  expect(res.ok, `fake Alpha Vantage /__stats HTTP ${res.status}`);
  return res.json();
}

/**
 * Calls news_sentiment for ACME and checks the answer against the fixture (av/fixture.mjs),
 * and that the upstream call happened without the caller's Authorization header.
 */
export async function expectNewsSentimentAcme(client, expected) {
  const before = await avStats();
  const r = await callTool(client, 'news_sentiment', { ticker: 'acme', limit: 3 });
  expect(!r.isError, `news_sentiment returned isError: ${textOf(r).slice(0, 200)}`);
  const s = r.structuredContent;
  expect(s && typeof s === 'object', 'news_sentiment has no structuredContent');
  expect(s.ticker === expected.ticker, `ticker ${show(s.ticker)}, want ${show(expected.ticker)}`);
  expect(typeof s.sentiment_score === 'number' && Math.abs(s.sentiment_score - expected.sentiment_score) < 1e-6,
    `sentiment_score ${show(s.sentiment_score)}, want ${expected.sentiment_score}`);
  expect(s.sentiment_label === expected.sentiment_label,
    `sentiment_label ${show(s.sentiment_label)}, want ${show(expected.sentiment_label)}`);
  expect(s.articles_analyzed === expected.articles_analyzed,
    `articles_analyzed ${show(s.articles_analyzed)}, want ${expected.articles_analyzed}`);
  const titles = (s.top_articles || []).map((a) => a.title);
  expect(show(titles) === show(expected.top_titles), `top_articles ${show(titles)}, want ${show(expected.top_titles)}`);
  const after = await avStats();
  expect(after.requests === before.requests + 1,
    `fake Alpha Vantage saw ${after.requests - before.requests} requests for one call, want 1`);
  expect(after.last_tickers === 'ACME', `upstream tickers=${show(after.last_tickers)}, want "ACME"`);
  expect(after.authorization_headers === 0, 'an Authorization header reached the upstream API');
  return s;
}

/**
 * In-memory OAuthClientProvider for authorization code + PKCE with dynamic client
 * registration. `redirectToAuthorization` follows the URL headlessly (lib/tokens.mjs
 * `followAuthorization`, the scripted login at the AS) and keeps the authorization
 * response's `code`; the caller then calls `transport.finishAuth(code)`.
 *
 * `noResource: true` makes the client ask for no RFC 8707 resource (validateResourceURL
 * returns undefined), the way a Logto client without an API resource does: the AS then
 * issues an opaque token that userinfo accepts.
 */
export class HeadlessLoginProvider {
  constructor({ redirectUrl, user = 'alice', noResource = false, clientName = 'warden-interop-login' }) {
    this._redirectUrl = redirectUrl;
    this._user = user;
    this._clientName = clientName;
    this.authorizationCode = undefined;
    this.authorizationUrl = undefined;
    this.registered = undefined;
    if (noResource) this.validateResourceURL = async () => undefined;
  }

  get redirectUrl() {
    return this._redirectUrl;
  }

  get clientMetadata() {
    return {
      client_name: this._clientName,
      redirect_uris: [this._redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation() {
    return this._client;
  }

  saveClientInformation(info) {
    this._client = info;
    this.registered = info.client_id;
  }

  tokens() {
    return this._tokens;
  }

  saveTokens(tokens) {
    this._tokens = tokens;
  }

  saveCodeVerifier(v) {
    this._verifier = v;
  }

  codeVerifier() {
    return this._verifier;
  }

  async redirectToAuthorization(url) {
    this.authorizationUrl = new URL(url.href);
    // The scripted login picks the user from login_hint (lib/tokens.mjs / as/server.mjs).
    const withHint = new URL(url.href);
    withHint.searchParams.set('login_hint', this._user);
    const { url: back } = await followAuthorization(withHint.href, { stopAt: this._redirectUrl });
    const params = new URL(back).searchParams;
    if (params.get('error')) {
      throw new CheckFailed(`authorization failed: ${params.get('error')} ${params.get('error_description') || ''}`.trim());
    }
    this.authorizationCode = params.get('code');
    expect(this.authorizationCode, 'authorization response carried no code');
  }
}
