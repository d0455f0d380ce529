// Obtain real tokens from the interop AS (as/server.mjs) over loopback with plain fetch.
//
// CLI:  node lib/tokens.mjs <kind> [user] [--json]
//   prints the access token (or, with --json, the whole token response) on stdout.
//   kinds: see KINDS below or `node lib/tokens.mjs --help`.
//   node lib/tokens.mjs browse <authorization URL>   follows a login headlessly (for BROWSER=)
//
// Library: import { clientCredentials, authorizationCodeLogin, followAuthorization, ... }.

import crypto from 'node:crypto';
import { pathToFileURL } from 'node:url';

import {
  ACCOUNTS,
  CLIENTS,
  ISSUER,
  MCP_OTHER_RESOURCE,
  MCP_RESOURCE,
} from './settings.mjs';

/** A token-endpoint or flow failure; the message never contains a token or secret. */
export class TokenError extends Error {}

let metadataCache;

/** The AS's OpenID discovery document. */
export async function discover(issuer = ISSUER) {
  if (metadataCache && metadataCache.issuer === issuer) return metadataCache;
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!res.ok) throw new TokenError(`discovery failed: HTTP ${res.status}`);
  metadataCache = await res.json();
  return metadataCache;
}

function basicAuth(clientId, clientSecret) {
  const enc = (s) => encodeURIComponent(s); // RFC 6749 §2.3.1 form-encoding
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`;
}

async function tokenRequest(form, client) {
  const { token_endpoint: endpoint } = await discover();
  const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
  const body = new URLSearchParams(form);
  if (client.client_secret) {
    headers.Authorization = basicAuth(client.client_id, client.client_secret);
  } else {
    body.set('client_id', client.client_id);
  }
  const res = await fetch(endpoint, { method: 'POST', headers, body });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw new TokenError(`token endpoint HTTP ${res.status}: ${json.error || '?'}`
      + `${json.error_description ? ` (${json.error_description})` : ''}`);
  }
  return json;
}

/**
 * Client-credentials grant. `resource` omitted → opaque token; MCP_RESOURCE → JWT (or
 * opaque with aud for mcp-cc-opaque). Returns the token response JSON.
 */
export async function clientCredentials({ client = CLIENTS.cc, resource, scope = client.scope } = {}) {
  const form = { grant_type: 'client_credentials' };
  if (scope) form.scope = scope;
  if (resource) form.resource = resource;
  return tokenRequest(form, client);
}

/**
 * Dynamic client registration (RFC 7591, open). Returns the registration response
 * (client_id, client_secret for confidential clients, …).
 */
export async function registerClient(metadata) {
  const { registration_endpoint: endpoint } = await discover();
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(metadata),
  });
  const json = await res.json().catch(() => ({}));
  if (res.status !== 201) {
    throw new TokenError(`registration HTTP ${res.status}: ${json.error || '?'}`
      + `${json.error_description ? ` (${json.error_description})` : ''}`);
  }
  return json;
}

// --- headless browser: a tiny cookie jar + manual redirects ----------------------------

/** Minimal cookie jar (name + path scoped, host-only, for one loopback origin). */
export class CookieJar {
  #cookies = new Map(); // `${name};${path}` → { name, value, path }

  store(res, url) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = new URL(url).pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = value === '';
      for (const attr of attrs) {
        const [k, v = ''] = attr.trim().split('=');
        const key = k.toLowerCase();
        if (key === 'path') path = v || '/';
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const id = `${name};${path}`;
      if (expired) this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    const matching = [...this.#cookies.values()].filter((c) => pathname === c.path
      || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`));
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

/**
 * Follows an authorization URL like a browser would (GET, manual redirects, cookies) until
 * the response redirects to a URL starting with `stopAt`, or — without `stopAt` — until a
 * non-redirect response. Returns { url, status }: the final URL (the redirect target when
 * stopped) and the last HTTP status.
 */
export async function followAuthorization(startUrl, { stopAt, maxHops = 15 } = {}) {
  const jar = new CookieJar();
  let url = startUrl;
  for (let hop = 0; hop < maxHops; hop += 1) {
    const cookie = jar.header(url);
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { Cookie: cookie } : {} });
    jar.store(res, url);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      const next = new URL(location, url).href;
      if (stopAt && next.startsWith(stopAt)) return { url: next, status: res.status };
      url = next;
      continue;
    }
    const text = await res.text();
    if (stopAt) {
      throw new TokenError(`login stopped at ${new URL(url).pathname} with HTTP ${res.status}: ${text.slice(0, 200).trim()}`);
    }
    return { url, status: res.status };
  }
  throw new TokenError(`too many redirects following ${new URL(startUrl).pathname}`);
}

function pkcePair() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/**
 * Authorization code + PKCE for a user (alice by default), done headlessly. With
 * `resource` the access token is a JWT for that resource (aud = resource); without it the
 * token is opaque and userinfo accepts it. Returns the token response JSON.
 */
export async function authorizationCodeLogin({
  user = 'alice',
  resource,
  scope = 'openid profile email news:read',
  client = CLIENTS.public,
} = {}) {
  const { authorization_endpoint: authz } = await discover();
  const { verifier, challenge } = pkcePair();
  const state = crypto.randomBytes(12).toString('base64url');
  const params = new URLSearchParams({
    client_id: client.client_id,
    response_type: 'code',
    redirect_uri: client.redirect_uri,
    scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    login_hint: user,
  });
  if (resource) params.set('resource', resource);

  const { url } = await followAuthorization(`${authz}?${params}`, { stopAt: client.redirect_uri });
  const back = new URL(url).searchParams;
  if (back.get('error')) {
    throw new TokenError(`authorization failed: ${back.get('error')} ${back.get('error_description') || ''}`.trim());
  }
  if (back.get('state') !== state) throw new TokenError('authorization response state mismatch');
  if (back.get('iss') !== ISSUER) throw new TokenError(`authorization response iss mismatch: ${back.get('iss')}`);
  const code = back.get('code');
  if (!code) throw new TokenError('authorization response has no code');

  const form = {
    grant_type: 'authorization_code',
    code,
    redirect_uri: client.redirect_uri,
    code_verifier: verifier,
  };
  if (resource) form.resource = resource;
  return tokenRequest(form, client);
}

// --- CLI ---------------------------------------------------------------------------------

/** Token kinds the CLI knows: name → [description, async (user) => token response]. */
export const KINDS = {
  'cc-jwt-es256': ['client credentials (mcp-cc-client), JWT ES256, aud=MCP_RESOURCE, scope "news:read profile"',
    () => clientCredentials({ client: CLIENTS.cc, resource: MCP_RESOURCE })],
  'cc-jwt-rs256': ['client credentials (mcp-cc-client-rs256), JWT RS256, aud=MCP_RESOURCE, scope "news:read profile"',
    () => clientCredentials({ client: CLIENTS.ccRs256, resource: MCP_RESOURCE })],
  'cc-jwt-profile': ['client credentials (mcp-cc-profile), JWT ES256, aud=MCP_RESOURCE, scope "profile" only',
    () => clientCredentials({ client: CLIENTS.ccProfile, resource: MCP_RESOURCE })],
  'cc-jwt-other-aud': ['client credentials (mcp-cc-client), JWT ES256, aud=MCP_OTHER_RESOURCE (wrong audience)',
    () => clientCredentials({ client: CLIENTS.cc, resource: MCP_OTHER_RESOURCE })],
  'cc-opaque': ['client credentials (mcp-cc-client), no resource → opaque, no aud, introspectable',
    () => clientCredentials({ client: CLIENTS.cc })],
  'cc-opaque-aud': ['client credentials (mcp-cc-opaque), resource=MCP_RESOURCE → opaque with aud, introspectable',
    () => clientCredentials({ client: CLIENTS.ccOpaque, resource: MCP_RESOURCE })],
  'login-opaque': ['auth code + PKCE login (user, default alice), no resource → opaque, userinfo accepts it',
    (user) => authorizationCodeLogin({ user })],
  'login-jwt': ['auth code + PKCE login (user, default alice), resource=MCP_RESOURCE → JWT ES256',
    (user) => authorizationCodeLogin({ user, resource: MCP_RESOURCE })],
};

function usage() {
  const lines = Object.entries(KINDS).map(([k, [d]]) => `  ${k.padEnd(18)} ${d}`);
  return [
    'usage: node lib/tokens.mjs <kind> [user] [--json]',
    '       node lib/tokens.mjs browse <authorization-url>',
    `users: ${Object.keys(ACCOUNTS).join(', ')}    issuer: ${ISSUER}`,
    'kinds:',
    ...lines,
  ].join('\n');
}

async function main(argv) {
  const json = argv.includes('--json');
  const [kind, arg] = argv.filter((a) => a !== '--json');
  if (!kind || kind === '--help' || kind === '-h') {
    process.stdout.write(`${usage()}\n`);
    return kind ? 0 : 2;
  }
  if (kind === 'browse') {
    if (!arg) throw new TokenError('browse needs a URL');
    const { url, status } = await followAuthorization(arg);
    process.stderr.write(`[tokens] browse ended at ${new URL(url).origin}${new URL(url).pathname} HTTP ${status}\n`);
    return status < 400 ? 0 : 1;
  }
  const entry = KINDS[kind];
  if (!entry) throw new TokenError(`unknown kind ${kind}\n${usage()}`);
  const response = await entry[1](arg);
  process.stdout.write(json ? `${JSON.stringify(response)}\n` : `${response.access_token}\n`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err) => {
      process.stderr.write(`[tokens] ${err instanceof TokenError ? err.message : err.stack}\n`);
      process.exitCode = 1;
    },
  );
}
