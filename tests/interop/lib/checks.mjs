// Sanity checks of the interop AS: prove the tokens the warden checks will use are right.
//
//   node lib/checks.mjs <check>    exit 0 on success; on failure one reason line on stderr, exit 1
//   node lib/checks.mjs --list     the check names, one per line
//
// Reasons never contain tokens or secrets. The AS location comes from lib/settings.mjs
// (AS_PORT, AS_ISSUER_PATH, MCP_RESOURCE, MCP_OTHER_RESOURCE).

import { pathToFileURL } from 'node:url';

import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

import {
  ACCOUNTS,
  AS_ISSUER_PATH,
  AS_PORT,
  CLIENTS,
  ISSUER,
  MCP_OTHER_RESOURCE,
  MCP_RESOURCE,
} from './settings.mjs';
import {
  TokenError,
  authorizationCodeLogin,
  clientCredentials,
  discover,
  registerClient,
} from './tokens.mjs';

class CheckFailed extends Error {}

function expect(cond, why) {
  if (!cond) throw new CheckFailed(why);
}

const show = (v) => JSON.stringify(v);

function sameScopes(actual, expected) {
  const a = new Set(String(actual).split(' ').filter(Boolean));
  const e = new Set(expected.split(' '));
  return a.size === e.size && [...e].every((s) => a.has(s));
}

async function jwks() {
  const { jwks_uri: uri } = await discover();
  return createRemoteJWKSet(new URL(uri));
}

/** Verifies an RFC 9068 access token against the AS JWKS and checks its claims. */
async function verifyAccessJwt(token, { alg, aud = MCP_RESOURCE, scope, sub, clientId }) {
  expect(token.split('.').length === 3, 'access token is not a JWS compact serialization');
  const header = decodeProtectedHeader(token);
  expect(header.typ === 'at+jwt', `header typ is ${show(header.typ)}, want "at+jwt"`);
  expect(header.alg === alg, `header alg is ${show(header.alg)}, want ${alg}`);
  expect(typeof header.kid === 'string', 'header has no kid');
  let payload;
  try {
    ({ payload } = await jwtVerify(token, await jwks(), {
      issuer: ISSUER,
      audience: aud,
      typ: 'at+jwt',
      algorithms: [alg],
    }));
  } catch (err) {
    throw new CheckFailed(`JWT does not verify against the AS JWKS: ${err.code || err.name}: ${err.message}`);
  }
  expect(payload.aud === aud, `aud is ${show(payload.aud)}, want ${show(aud)}`);
  expect(typeof payload.scope === 'string', `scope is ${show(payload.scope)}, want a space-delimited string`);
  expect(sameScopes(payload.scope, scope), `scope is ${show(payload.scope)}, want ${show(scope)}`);
  expect(payload.sub === sub, `sub is ${show(payload.sub)}, want ${show(sub)}`);
  expect(payload.client_id === clientId, `client_id is ${show(payload.client_id)}, want ${show(clientId)}`);
  for (const claim of ['exp', 'iat', 'jti']) expect(payload[claim] !== undefined, `no ${claim} claim`);
  return payload;
}

/** Calls introspection as warden-rs with client_secret_basic. */
async function introspect(token, { secret = CLIENTS.warden.client_secret } = {}) {
  const { introspection_endpoint: endpoint } = await discover();
  const basic = Buffer.from(`${CLIENTS.warden.client_id}:${secret}`).toString('base64');
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
  });
  return { status: res.status, body: await res.json().catch(() => ({})) };
}

async function userinfo(token) {
  const { userinfo_endpoint: endpoint } = await discover();
  const res = await fetch(endpoint, { headers: { Authorization: `Bearer ${token}` } });
  return {
    status: res.status,
    challenge: res.headers.get('www-authenticate') || '',
    body: await res.json().catch(() => ({})),
  };
}

async function revoke(token, client) {
  const { revocation_endpoint: endpoint } = await discover();
  const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
  });
  return res.status;
}

async function expectTokenError(promise, code) {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TokenError) {
      expect(err.message.includes(code), `got "${err.message}", want ${code}`);
      return;
    }
    throw err;
  }
  throw new CheckFailed(`token request succeeded, want ${code}`);
}

function expectUser(body, user) {
  const want = ACCOUNTS[user];
  for (const claim of ['sub', 'name', 'email', 'preferred_username', 'username']) {
    expect(body[claim] === want[claim], `userinfo ${claim} is ${show(body[claim])}, want ${show(want[claim])}`);
  }
}

const ALL_SCOPES = 'news:read profile';

/** name → async () => void (throws CheckFailed). */
export const CHECKS = {
  'as-discovery': async () => {
    const md = await discover();
    expect(md.issuer === ISSUER, `issuer is ${show(md.issuer)}, want ${show(ISSUER)}`);
    for (const key of ['introspection_endpoint', 'userinfo_endpoint', 'registration_endpoint',
      'revocation_endpoint', 'jwks_uri', 'token_endpoint', 'authorization_endpoint']) {
      expect(typeof md[key] === 'string' && md[key].startsWith(ISSUER), `${key} missing or off-issuer: ${show(md[key])}`);
    }
    expect(md.grant_types_supported?.includes('client_credentials'), 'client_credentials not in grant_types_supported');
    expect(show(md.code_challenge_methods_supported) === '["S256"]', 'code_challenge_methods_supported is not ["S256"]');
    expect(md.scopes_supported?.includes('news:read'), 'news:read not in scopes_supported');
  },

  'as-metadata-aliases': async () => {
    const origin = `http://127.0.0.1:${AS_PORT}`;
    for (const url of [
      `${origin}/.well-known/oauth-authorization-server${AS_ISSUER_PATH}`,
      `${origin}/.well-known/openid-configuration${AS_ISSUER_PATH}`,
      `${ISSUER}/.well-known/oauth-authorization-server`,
    ]) {
      const res = await fetch(url);
      expect(res.status === 200, `${new URL(url).pathname} answered HTTP ${res.status}`);
      const md = await res.json();
      expect(md.issuer === ISSUER, `${new URL(url).pathname} has issuer ${show(md.issuer)}`);
    }
  },

  'as-jwks-public-es256-rs256': async () => {
    const { jwks_uri: uri } = await discover();
    const { keys } = await (await fetch(uri)).json();
    const algs = keys.map((k) => k.alg).sort();
    expect(show(algs) === '["ES256","RS256"]', `JWKS algs are ${show(algs)}, want ES256 and RS256`);
    for (const k of keys) {
      expect(!('d' in k) && !('p' in k), `JWKS key ${k.kid} exposes private parameters`);
      expect(k.use === 'sig' && typeof k.kid === 'string', `JWKS key ${k.kid} lacks use=sig or kid`);
    }
  },

  'cc-jwt-es256': async () => {
    const { access_token: t, token_type: type } = await clientCredentials({ client: CLIENTS.cc, resource: MCP_RESOURCE });
    expect(type === 'Bearer', `token_type is ${show(type)}`);
    await verifyAccessJwt(t, { alg: 'ES256', scope: ALL_SCOPES, sub: CLIENTS.cc.client_id, clientId: CLIENTS.cc.client_id });
  },

  'cc-jwt-rs256': async () => {
    const { access_token: t } = await clientCredentials({ client: CLIENTS.ccRs256, resource: MCP_RESOURCE });
    await verifyAccessJwt(t, { alg: 'RS256', scope: ALL_SCOPES, sub: CLIENTS.ccRs256.client_id, clientId: CLIENTS.ccRs256.client_id });
  },

  'cc-jwt-profile-only': async () => {
    const { access_token: t } = await clientCredentials({ client: CLIENTS.ccProfile, resource: MCP_RESOURCE });
    await verifyAccessJwt(t, { alg: 'ES256', scope: 'profile', sub: CLIENTS.ccProfile.client_id, clientId: CLIENTS.ccProfile.client_id });
  },

  'cc-profile-client-denied-news-read': async () => {
    await expectTokenError(
      clientCredentials({ client: CLIENTS.ccProfile, resource: MCP_RESOURCE, scope: ALL_SCOPES }),
      'invalid_scope',
    );
  },

  'cc-jwt-other-audience': async () => {
    const { access_token: t } = await clientCredentials({ client: CLIENTS.cc, resource: MCP_OTHER_RESOURCE });
    await verifyAccessJwt(t, { alg: 'ES256', aud: MCP_OTHER_RESOURCE, scope: ALL_SCOPES, sub: CLIENTS.cc.client_id, clientId: CLIENTS.cc.client_id });
  },

  'cc-unknown-resource-rejected': async () => {
    await expectTokenError(
      clientCredentials({ client: CLIENTS.cc, resource: 'http://127.0.0.1:1/not-registered' }),
      'invalid_target',
    );
  },

  'cc-opaque-introspects-active': async () => {
    const { access_token: t } = await clientCredentials({ client: CLIENTS.cc });
    expect(t.split('.').length === 1, 'token without resource is not opaque');
    const { status, body } = await introspect(t);
    expect(status === 200, `introspection HTTP ${status}`);
    expect(body.active === true, `active is ${show(body.active)}`);
    expect(sameScopes(body.scope, ALL_SCOPES), `scope is ${show(body.scope)}`);
    expect(body.client_id === CLIENTS.cc.client_id, `client_id is ${show(body.client_id)}`);
    expect(body.iss === ISSUER, `iss is ${show(body.iss)}`);
    expect(body.aud === undefined, `aud is ${show(body.aud)}, want none (no resource requested)`);
    expect(typeof body.exp === 'number', 'no exp');
  },

  'cc-opaque-with-aud-introspects-active': async () => {
    const { access_token: t } = await clientCredentials({ client: CLIENTS.ccOpaque, resource: MCP_RESOURCE });
    expect(t.split('.').length === 1, 'mcp-cc-opaque token is not opaque');
    const { status, body } = await introspect(t);
    expect(status === 200 && body.active === true, `introspection HTTP ${status} active=${show(body.active)}`);
    expect(body.aud === MCP_RESOURCE, `aud is ${show(body.aud)}, want ${show(MCP_RESOURCE)}`);
    expect(sameScopes(body.scope, ALL_SCOPES), `scope is ${show(body.scope)}`);
  },

  'introspection-rejects-bad-client-secret': async () => {
    const { access_token: t } = await clientCredentials({ client: CLIENTS.cc });
    const { status, body } = await introspect(t, { secret: 'not-the-secret' });
    expect(status === 401 && body.error === 'invalid_client', `HTTP ${status} error=${show(body.error)}, want 401 invalid_client`);
  },

  'introspection-refuses-jwt-access-tokens': async () => {
    const { access_token: t } = await clientCredentials({ client: CLIENTS.cc, resource: MCP_RESOURCE });
    const { status, body } = await introspect(t);
    expect(status === 400 && body.error === 'unsupported_token_type',
      `HTTP ${status} error=${show(body.error)}, want 400 unsupported_token_type (oidc-provider quirk)`);
  },

  'revoked-opaque-introspects-inactive': async () => {
    const { access_token: t } = await clientCredentials({ client: CLIENTS.cc });
    const status = await revoke(t, CLIENTS.cc);
    expect(status === 200, `revocation HTTP ${status}`);
    const { body } = await introspect(t);
    expect(body.active === false, `active is ${show(body.active)} after revocation`);
  },

  'login-opaque-userinfo-alice': async () => {
    const { access_token: t, id_token: idt } = await authorizationCodeLogin({ user: 'alice' });
    expect(t.split('.').length === 1, 'login token without resource is not opaque');
    expect(typeof idt === 'string', 'no id_token for scope openid');
    const { status, body } = await userinfo(t);
    expect(status === 200, `userinfo HTTP ${status}`);
    expectUser(body, 'alice');
  },

  'login-opaque-userinfo-bob': async () => {
    const { access_token: t } = await authorizationCodeLogin({ user: 'bob' });
    const { status, body } = await userinfo(t);
    expect(status === 200, `userinfo HTTP ${status}`);
    expectUser(body, 'bob');
  },

  'login-opaque-introspects-active': async () => {
    const { access_token: t } = await authorizationCodeLogin({ user: 'alice' });
    const { body } = await introspect(t);
    expect(body.active === true && body.sub === 'alice', `active=${show(body.active)} sub=${show(body.sub)}`);
    expect(body.client_id === CLIENTS.public.client_id, `client_id is ${show(body.client_id)}`);
  },

  'login-jwt-alice': async () => {
    const { access_token: t } = await authorizationCodeLogin({ user: 'alice', resource: MCP_RESOURCE });
    await verifyAccessJwt(t, { alg: 'ES256', scope: ALL_SCOPES, sub: 'alice', clientId: CLIENTS.public.client_id });
  },

  'userinfo-rejects-resource-jwt': async () => {
    const { access_token: t } = await authorizationCodeLogin({ user: 'alice', resource: MCP_RESOURCE });
    const { status, challenge } = await userinfo(t);
    expect(status === 401 && challenge.includes('invalid_token'),
      `userinfo HTTP ${status}, want 401 invalid_token (oidc-provider quirk)`);
  },

  'dcr-client-gets-rs256-jwt': async () => {
    const reg = await registerClient({
      client_name: 'interop-dcr',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: ALL_SCOPES,
      at_jwt_alg: 'RS256',
    });
    expect(typeof reg.client_id === 'string' && typeof reg.client_secret === 'string', 'registration returned no credentials');
    const client = { client_id: reg.client_id, client_secret: reg.client_secret, scope: ALL_SCOPES };
    const { access_token: t } = await clientCredentials({ client, resource: MCP_RESOURCE });
    await verifyAccessJwt(t, { alg: 'RS256', scope: ALL_SCOPES, sub: reg.client_id, clientId: reg.client_id });
  },
};

async function main(argv) {
  const [name] = argv;
  if (name === '--list') {
    process.stdout.write(`${Object.keys(CHECKS).join('\n')}\n`);
    return 0;
  }
  const check = CHECKS[name];
  if (!check) {
    process.stderr.write(`unknown check ${show(name)}; try --list\n`);
    return 2;
  }
  try {
    await check();
    return 0;
  } catch (err) {
    const reason = err instanceof CheckFailed || err instanceof TokenError
      ? err.message
      : `${err.name}: ${err.message}`;
    process.stderr.write(`${reason.replace(/\s+/g, ' ')}\n`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
