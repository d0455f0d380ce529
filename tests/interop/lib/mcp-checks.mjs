// warden checks driven by the real TypeScript MCP SDK (and raw HTTP where an exact status
// or header is the point), grouped by the warden config they run against.
//
//   node lib/mcp-checks.mjs --list GROUP    check names of GROUP (dev, jwt, introspection,
//                                           introspection-lenient, logto), one per line
//   node lib/mcp-checks.mjs GROUP NAME      exit 0 on success; else one reason line, exit 1
//
// run.sh starts warden with the group's config first. Reasons never contain tokens.

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeProtectedHeader } from 'jose';

import { EXPECTED_ACME } from '../av/fixture.mjs';
import {
  CheckFailed,
  HeadlessLoginProvider,
  INITIALIZE,
  MCP_URL,
  ORIGIN,
  brief,
  callTool,
  connect,
  expect,
  expectNewsSentimentAcme,
  parseBearerChallenge,
  prmUrl,
  rawPost,
  recordingFetch,
  show,
  textOf,
  toolNames,
  whoami,
} from './mcp.mjs';
import {
  ACCOUNTS, CLIENTS, ISSUER, MCP_OTHER_RESOURCE, REDIRECT_URI, RESOURCE_SCOPES,
} from './settings.mjs';
import { TokenError, authorizationCodeLogin, clientCredentials, discover } from './tokens.mjs';

const DEV_ISSUER = `${ORIGIN}/dev`;
const DEV_CLIENT = { id: 'warden-dev-client', secret: 'warden-dev-secret' };

// --- shared pieces -------------------------------------------------------------------------

async function ccToken(client, scope) {
  const r = await clientCredentials({ client, resource: MCP_URL, ...(scope ? { scope } : {}) });
  return r.access_token;
}

async function expectTokenAccepted(token, { sub, clientId, alg, transport = 'http' }) {
  if (alg) {
    const header = decodeProtectedHeader(token);
    expect(header.alg === alg, `token alg ${show(header.alg)}, want ${alg}`);
  }
  const { client } = await connect({ token, transport });
  try {
    const me = await whoami(client);
    if (sub !== undefined) expect(me.sub === sub, `whoami sub ${show(me.sub)}, want ${show(sub)}`);
    if (clientId) expect(me.client_id === clientId, `whoami client_id ${show(me.client_id)}, want ${show(clientId)}`);
    return me;
  } finally {
    await client.close();
  }
}

async function expect401(token, { error }) {
  const r = await rawPost(INITIALIZE, { token });
  expect(r.status === 401, `HTTP ${r.status}, want 401 (${r.text.slice(0, 120)})`);
  const header = r.headers.get('www-authenticate');
  const c = parseBearerChallenge(header);
  expect(c, `401 without a Bearer challenge: ${show(header)}`);
  expect(c.resource_metadata === prmUrl(), `resource_metadata ${show(c.resource_metadata)}, want ${show(prmUrl())}`);
  if (error) expect(c.error === error, `error ${show(c.error)}, want ${show(error)}`);
  else expect(c.error === undefined, `a request without a token must get no error= (got ${show(c.error)})`);
  return c;
}

/**
 * The SDK's ClientCredentialsProvider flow from a bare 401; returns { client, log }.
 * SDK 1.32 sends the provider's own `scope` option in client-credentials token requests
 * (not the 401's scope=), so the client is configured with the scopes it wants.
 */
async function clientCredentialsFlow({ clientId, clientSecret, issuer, scope = RESOURCE_SCOPES }) {
  const rec = recordingFetch();
  const authProvider = new ClientCredentialsProvider({ clientId, clientSecret, scope, expectedIssuer: issuer });
  const { client } = await connect({ authProvider, fetch: rec.fetch });
  const log = rec.log;
  const steps = log.map(brief).join(', ');
  const first = log[0];
  expect(first && first.method === 'POST' && first.url === MCP_URL && first.status === 401,
    `the first request was not a 401 POST to the MCP URL: ${steps}`);
  const prm = log.findIndex((e) => e.method === 'GET' && e.url.includes('/.well-known/oauth-protected-resource') && e.status === 200);
  expect(prm > 0, `no PRM fetch: ${steps}`);
  const asMeta = log.findIndex((e, i) => i > prm && e.method === 'GET' && e.status === 200
    && /\/\.well-known\/(oauth-authorization-server|openid-configuration)/.test(e.url));
  expect(asMeta > prm, `no AS metadata fetch after the PRM: ${steps}`);
  const tok = log.findIndex((e, i) => i > asMeta && e.form?.grant_type === 'client_credentials');
  expect(tok > asMeta, `no client_credentials token request after the AS metadata: ${steps}`);
  expect(log[tok].status === 200, `token endpoint HTTP ${log[tok].status}`);
  expect(log[tok].form.scope === scope, `token request scope ${show(log[tok].form.scope)}, want ${show(scope)}`);
  expect(log[tok].form.resource === MCP_URL, `token request resource ${show(log[tok].form.resource)}, want ${show(MCP_URL)}`);
  const retried = log.findIndex((e, i) => i > tok && e.method === 'POST' && e.url === MCP_URL && e.status === 200);
  expect(retried > tok, `initialize was not retried with the token: ${steps}`);
  return { client, log };
}

async function expectToolsListed(client) {
  const names = await toolNames(client);
  for (const t of ['news_sentiment', 'whoami']) expect(names.includes(t), `tools/list ${show(names)} lacks ${t}`);
}

/** Authorization code + PKCE + DCR through the SDK; returns { client, provider, token }. */
async function loginFlow({ noResource = false, user = 'alice' } = {}) {
  const rec = recordingFetch();
  const provider = new HeadlessLoginProvider({ redirectUrl: REDIRECT_URI, user, noResource });
  const first = await connect({ authProvider: provider, fetch: rec.fetch }).then(
    () => { throw new CheckFailed('connected without a login'); },
    (err) => err,
  );
  if (!(first instanceof UnauthorizedError)) throw first;
  const steps = rec.log.map(brief).join(', ');
  expect(provider.registered, `no dynamic client registration happened: ${steps}`);
  expect(rec.log.some((e) => e.method === 'POST' && /\/reg$/.test(e.url) && e.status === 201), `no 201 from the registration endpoint: ${steps}`);
  const authz = provider.authorizationUrl;
  expect(authz, 'the SDK never redirected to the authorization endpoint');
  expect(authz.searchParams.get('code_challenge_method') === 'S256', 'authorization request without PKCE S256');
  expect(authz.searchParams.get('client_id') === provider.registered, 'authorization request uses another client_id');
  expect(noResource ? !authz.searchParams.has('resource') : authz.searchParams.get('resource') === MCP_URL,
    `authorization request resource ${show(authz.searchParams.get('resource'))}`);
  // Finish: exchange the code (the SDK sends code_verifier and resource), then reconnect.
  const finishing = new StreamableHTTPClientTransport(new URL(MCP_URL), { authProvider: provider, fetch: rec.fetch });
  await finishing.finishAuth(provider.authorizationCode);
  await finishing.close();
  const exchange = rec.log.find((e) => e.form?.grant_type === 'authorization_code');
  expect(exchange && exchange.status === 200, `code exchange ${exchange ? `HTTP ${exchange.status}` : 'missing'}`);
  expect(noResource ? !exchange.form.resource : exchange.form.resource === MCP_URL,
    `code exchange resource ${show(exchange.form.resource)}`);
  const token = provider.tokens()?.access_token;
  expect(token, 'no access token after the code exchange');
  const { client } = await connect({ authProvider: provider, fetch: rec.fetch });
  return { client, provider, token };
}

function isJwt(token) {
  return token.split('.').length === 3;
}

/** A ClientCredentialsProvider that starts with a token it already holds (for step-up). */
class SeededClientCredentialsProvider extends ClientCredentialsProvider {
  constructor(options, tokens) {
    super(options);
    this.saveTokens({ ...tokens, issuer: options.expectedIssuer });
  }
}

// --- the checks ------------------------------------------------------------------------------

const DEV = {
  // E1 (dev default): the SDK discovers warden's embedded dev issuer from the 401 and PRM
  // and gets a client-credentials token at {public_url}/dev/token.
  'sdk-client-credentials-dev-issuer': async () => {
    const { client, log } = await clientCredentialsFlow({ clientId: DEV_CLIENT.id, clientSecret: DEV_CLIENT.secret, issuer: DEV_ISSUER });
    try {
      const tok = log.find((e) => e.form?.grant_type === 'client_credentials');
      expect(tok.url === `${DEV_ISSUER}/token`, `token endpoint ${show(tok.url)}, want ${DEV_ISSUER}/token`);
      await expectToolsListed(client);
      const me = await whoami(client);
      expect(me.client_id === DEV_CLIENT.id, `whoami client_id ${show(me.client_id)}, want ${DEV_CLIENT.id}`);
      expect(me.issuer === DEV_ISSUER, `whoami issuer ${show(me.issuer)}, want ${DEV_ISSUER}`);
      await expectNewsSentimentAcme(client, EXPECTED_ACME);
    } finally {
      await client.close();
    }
  },
};

const JWT = {
  // B 8b: kind = "jwt" with the real AS.
  'es256-client-credentials-accepted': async () => {
    const me = await expectTokenAccepted(await ccToken(CLIENTS.cc), { sub: CLIENTS.cc.client_id, clientId: CLIENTS.cc.client_id, alg: 'ES256' });
    expect(me.issuer === ISSUER, `whoami issuer ${show(me.issuer)}, want ${ISSUER}`);
    expect((me.audiences || []).includes(MCP_URL), `whoami audiences ${show(me.audiences)} lack ${MCP_URL}`);
  },
  'rs256-client-credentials-accepted': async () => {
    await expectTokenAccepted(await ccToken(CLIENTS.ccRs256), { sub: CLIENTS.ccRs256.client_id, clientId: CLIENTS.ccRs256.client_id, alg: 'RS256' });
  },
  'jwks-discovered-from-issuer': async () => {
    const config = readFileSync(process.env.IOP_CONFIG, 'utf8');
    expect(!/^\s*jwks_url\s*=/m.test(config), 'the jwt config sets jwks_url; this check needs discovery');
    const prm = await (await fetch(prmUrl())).json();
    expect(show(prm.authorization_servers) === show([ISSUER]), `PRM authorization_servers ${show(prm.authorization_servers)}, want [${ISSUER}]`);
    await expectTokenAccepted(await ccToken(CLIENTS.cc), { sub: CLIENTS.cc.client_id });
  },
  'other-audience-rejected-401': async () => {
    const { access_token: t } = await clientCredentials({ client: CLIENTS.cc, resource: MCP_OTHER_RESOURCE });
    await expect401(t, { error: 'invalid_token' });
  },
  'no-token-401-resource-metadata': async () => {
    const c = await expect401(undefined, {});
    expect(c.scope, '401 challenge without scope= (2025-11-25 SHOULD)');
  },

  // E1: the SDK's ClientCredentialsProvider from a bare 401 with the real AS.
  'sdk-client-credentials-discovery': async () => {
    const { client } = await clientCredentialsFlow({ clientId: CLIENTS.cc.client_id, clientSecret: CLIENTS.cc.client_secret, issuer: ISSUER });
    try {
      await expectToolsListed(client);
      const me = await whoami(client);
      expect(me.sub === CLIENTS.cc.client_id, `whoami sub ${show(me.sub)}, want ${CLIENTS.cc.client_id}`);
      await expectNewsSentimentAcme(client, EXPECTED_ACME);
    } finally {
      await client.close();
    }
  },

  // A client configured with a trailing slash: /mcp/ is served without a redirect, and the
  // PRM's resource (/mcp) is what the SDK sends as `resource`.
  'sdk-trailing-slash-url': async () => {
    const rec = recordingFetch();
    const authProvider = new ClientCredentialsProvider({
      clientId: CLIENTS.cc.client_id, clientSecret: CLIENTS.cc.client_secret, scope: RESOURCE_SCOPES, expectedIssuer: ISSUER,
    });
    const { client } = await connect({ authProvider, fetch: rec.fetch, url: `${MCP_URL}/` });
    try {
      expect(!rec.log.some((e) => e.status >= 300 && e.status < 400), `a redirect happened: ${rec.log.map(brief).join(', ')}`);
      const tok = rec.log.find((e) => e.form?.grant_type === 'client_credentials');
      expect(tok?.form.resource === MCP_URL, `token request resource ${show(tok?.form.resource)}, want ${show(MCP_URL)}`);
      await expectToolsListed(client);
      await expectNewsSentimentAcme(client, EXPECTED_ACME);
    } finally {
      await client.close();
    }
  },

  // E2: user login with DCR + PKCE through the SDK; JWT access token for the MCP resource.
  'sdk-login-dcr-pkce-jwt': async () => {
    const { client, provider, token } = await loginFlow();
    try {
      expect(isJwt(token), 'the login token is not a JWT (resource was not honoured)');
      const me = await whoami(client);
      expect(me.sub === 'alice', `whoami sub ${show(me.sub)}, want "alice"`);
      expect(me.client_id === provider.registered, `whoami client_id ${show(me.client_id)}, want the registered client`);
      await expectToolsListed(client);
      await expectNewsSentimentAcme(client, EXPECTED_ACME);
    } finally {
      await client.close();
    }
  },

  // E3: a token without news:read gets HTTP 403 insufficient_scope on news_sentiment; a
  // token from a client allowed news:read succeeds.
  'step-up-403-then-scoped-client': async () => {
    const rec = recordingFetch();
    const { client } = await connect({ token: await ccToken(CLIENTS.ccProfile), fetch: rec.fetch });
    try {
      const me = await whoami(client);
      expect(!(me.scopes || []).includes('news:read'), `the profile-only token has scopes ${show(me.scopes)}`);
      const err = await callTool(client, 'news_sentiment', { ticker: 'ACME' }).then(() => null, (e) => e);
      expect(err, 'news_sentiment succeeded without news:read');
      expect(err instanceof StreamableHTTPError && err.code === 403, `news_sentiment failed with ${err.name} ${err.code ?? ''}, want HTTP 403`);
      const refused = rec.log.find((e) => e.status === 403);
      const c = parseBearerChallenge(refused?.wwwAuthenticate);
      expect(c, `403 without a Bearer challenge: ${show(refused?.wwwAuthenticate)}`);
      expect(c.error === 'insufficient_scope', `403 error ${show(c.error)}, want insufficient_scope`);
      expect(c.scope === 'news:read', `403 scope ${show(c.scope)}, want "news:read"`);
      expect(c.resource_metadata === prmUrl(), `403 resource_metadata ${show(c.resource_metadata)}`);
    } finally {
      await client.close();
    }
    const { client: scoped } = await connect({ token: await ccToken(CLIENTS.cc) });
    try {
      await expectNewsSentimentAcme(scoped, EXPECTED_ACME);
    } finally {
      await scoped.close();
    }
  },

  // E3 with the SDK's own step-up: it holds a profile-only token, news_sentiment answers
  // 403 insufficient_scope, the SDK re-authorizes and retries. (For client credentials
  // SDK 1.32 re-requests the provider's configured scope, "news:read profile".)
  'step-up-sdk-reauth': async () => {
    const seeded = await clientCredentials({ client: CLIENTS.cc, resource: MCP_URL, scope: 'profile' });
    const provider = new SeededClientCredentialsProvider({
      clientId: CLIENTS.cc.client_id, clientSecret: CLIENTS.cc.client_secret, scope: RESOURCE_SCOPES, expectedIssuer: ISSUER,
    }, seeded);
    const rec = recordingFetch();
    const { client } = await connect({ authProvider: provider, fetch: rec.fetch });
    try {
      const before = await whoami(client);
      expect(show(before.scopes) === show(['profile']), `seeded token scopes ${show(before.scopes)}, want ["profile"]`);
      await expectNewsSentimentAcme(client, EXPECTED_ACME);
      const steps = rec.log.map(brief).join(', ');
      const refused = rec.log.findIndex((e) => e.status === 403);
      expect(refused >= 0, `no 403 before the step-up: ${steps}`);
      const tok = rec.log.findIndex((e, i) => i > refused && e.form?.grant_type === 'client_credentials');
      expect(tok > refused, `the SDK did not request a new token after the 403: ${steps}`);
      expect((rec.log[tok].form.scope || '').split(' ').includes('news:read'), `step-up token request scope ${show(rec.log[tok].form.scope)}`);
      const after = await whoami(client);
      expect((after.scopes || []).includes('news:read'), `after step-up scopes ${show(after.scopes)} lack news:read`);
    } finally {
      await client.close();
    }
  },

  // E7: legacy HTTP+SSE transport (GET /sse + POST /messages?sessionId=…) with a bearer token.
  'sse-bearer-tools-list-whoami': async () => {
    const { client, transport } = await connect({ transport: 'sse', token: await ccToken(CLIENTS.cc) });
    try {
      expect(transport._endpoint && transport._endpoint.searchParams.has('sessionId'),
        `the endpoint event announced ${show(transport._endpoint?.pathname)} without ?sessionId=`);
      await expectToolsListed(client);
      const me = await whoami(client);
      expect(me.sub === CLIENTS.cc.client_id, `whoami sub ${show(me.sub)}, want ${CLIENTS.cc.client_id}`);
      await expectNewsSentimentAcme(client, EXPECTED_ACME);
    } finally {
      await client.close();
    }
  },
  // E7 with OAuth discovery: the SDK's SSEClientTransport + ClientCredentialsProvider from a
  // bare 401 on GET /sse (what an SSE-only client with OAuth does).
  'sse-sdk-oauth-client-credentials': async () => {
    const rec = recordingFetch();
    const authProvider = new ClientCredentialsProvider({
      clientId: CLIENTS.cc.client_id, clientSecret: CLIENTS.cc.client_secret, scope: RESOURCE_SCOPES, expectedIssuer: ISSUER,
    });
    let client;
    try {
      ({ client } = await connect({ transport: 'sse', authProvider, fetch: rec.fetch }));
    } catch (err) {
      const prm = rec.log.find((e) => e.url.includes('/.well-known/oauth-protected-resource'));
      throw new CheckFailed(`${err.message} (GET /sse 401 pointed at ${prm ? new URL(prm.url).pathname : 'no PRM'}; `
        + 'RFC 9728 §3.3: its resource must match the URL requested)');
    }
    try {
      const tok = rec.log.find((e) => e.form?.grant_type === 'client_credentials');
      expect(tok && tok.status === 200, `token request ${tok ? brief(tok) : 'missing'}`);
      const me = await whoami(client);
      expect(me.sub === CLIENTS.cc.client_id, `whoami sub ${show(me.sub)}`);
    } finally {
      await client.close();
    }
  },
  'sse-no-token-401': async () => {
    const res = await fetch(`${ORIGIN}/sse`, { headers: { Accept: 'text/event-stream' } });
    await res.body?.cancel();
    expect(res.status === 401, `GET /sse without a token: HTTP ${res.status}, want 401`);
    const c = parseBearerChallenge(res.headers.get('www-authenticate'));
    // The legacy endpoint is its own RFC 9728 resource: SSE clients check that the
    // metadata's `resource` is the URL they connected to.
    const ssePrm = `${ORIGIN}/.well-known/oauth-protected-resource/sse`;
    expect(c && c.resource_metadata === ssePrm, `GET /sse 401 challenge ${show(res.headers.get('www-authenticate'))}, want resource_metadata ${ssePrm}`);
    const prm = await (await fetch(ssePrm)).json();
    expect(prm.resource === `${ORIGIN}/sse`, `${ssePrm} names resource ${show(prm.resource)}, want ${ORIGIN}/sse`);
  },
  'sse-tool-refused-without-scope': async () => {
    const rec = recordingFetch();
    const { client } = await connect({ transport: 'sse', token: await ccToken(CLIENTS.ccProfile), fetch: rec.fetch });
    try {
      await whoami(client);
      const r = await callTool(client, 'news_sentiment', { ticker: 'ACME' }).then((x) => x, (e) => e);
      expect(r instanceof Error || r.isError, `news_sentiment over SSE without news:read succeeded: ${textOf(r).slice(0, 120)}`);
      const refused = rec.log.find((e) => e.method === 'POST' && e.status === 403);
      expect(refused, `no HTTP 403 on the POST: ${rec.log.map(brief).join(', ')}`);
      const c = parseBearerChallenge(refused.wwwAuthenticate);
      expect(c && c.error === 'insufficient_scope' && c.scope === 'news:read',
        `SSE 403 challenge ${show(refused.wwwAuthenticate)}`);
    } finally {
      await client.close();
    }
  },
  'sse-session-bound-to-user': async () => {
    // Another principal may not post into mcp-cc-client's legacy session.
    const { client, transport } = await connect({ transport: 'sse', token: await ccToken(CLIENTS.cc) });
    try {
      const endpoint = transport._endpoint.href;
      const other = await ccToken(CLIENTS.ccRs256);
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${other}` },
        body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list' }),
      });
      await res.arrayBuffer();
      expect(res.status === 403 || res.status === 404, `another client's POST into the session: HTTP ${res.status}, want 403/404`);
    } finally {
      await client.close();
    }
  },

  // E8: 2025-03-26 clients look for AS metadata on the MCP origin.
  'as-metadata-mirror-on-mcp-origin': async () => {
    const res = await fetch(`${ORIGIN}/.well-known/oauth-authorization-server`);
    expect(res.status === 200, `GET ${ORIGIN}/.well-known/oauth-authorization-server: HTTP ${res.status}, want 200`);
    const mirror = await res.json();
    const as = await discover();
    expect(mirror.issuer === ISSUER, `mirrored issuer ${show(mirror.issuer)}, want the AS's own ${show(ISSUER)}`);
    for (const k of ['token_endpoint', 'authorization_endpoint', 'jwks_uri', 'registration_endpoint']) {
      expect(mirror[k] === as[k], `mirrored ${k} ${show(mirror[k])}, AS says ${show(as[k])}`);
    }
  },
  'sdk-legacy-client-via-origin-metadata': async () => {
    // The SDK's pre-RFC 9728 path: no PRM (hidden here), so it treats the MCP origin as the
    // authorization server, reads the mirror, and uses the token_endpoint it lists.
    const rec = recordingFetch();
    const hidePrm = async (input, init) => {
      const u = new URL(input instanceof Request ? input.url : String(input));
      if (u.origin === ORIGIN && u.pathname.startsWith('/.well-known/oauth-protected-resource')) {
        return new Response('not found', { status: 404 });
      }
      return rec.fetch(input, init);
    };
    class LegacyProvider extends ClientCredentialsProvider {
      // A 2025-03-26-era client configured with its resource indicator.
      async validateResourceURL() { return new URL(MCP_URL); }
    }
    const provider = new LegacyProvider({
      clientId: CLIENTS.cc.client_id, clientSecret: CLIENTS.cc.client_secret, scope: RESOURCE_SCOPES, expectedIssuer: `${ORIGIN}/`,
    });
    const { client } = await connect({ authProvider: provider, fetch: hidePrm });
    try {
      const steps = rec.log.map(brief).join(', ');
      expect(rec.log.some((e) => e.url === `${ORIGIN}/.well-known/oauth-authorization-server` && e.status === 200),
        `the SDK did not read the mirror on the MCP origin: ${steps}`);
      const as = await discover();
      const tok = rec.log.find((e) => e.form?.grant_type === 'client_credentials');
      expect(tok && tok.url === as.token_endpoint && tok.status === 200, `token request ${tok ? brief(tok) : 'missing'} (want ${as.token_endpoint})`);
      const me = await whoami(client);
      expect(me.sub === CLIENTS.cc.client_id, `whoami sub ${show(me.sub)}`);
    } finally {
      await client.close();
    }
  },
};

async function introspectionOpaqueAccepted(kind) {
  const t = (await clientCredentials({ client: kind === 'aud' ? CLIENTS.ccOpaque : CLIENTS.cc, ...(kind === 'aud' ? { resource: MCP_URL } : {}) })).access_token;
  expect(!isJwt(t), 'expected an opaque token from the AS');
  // oidc-provider's introspection answer for client-credentials tokens has client_id, no sub.
  const id = kind === 'aud' ? CLIENTS.ccOpaque.client_id : CLIENTS.cc.client_id;
  return { token: t, me: await expectTokenAccepted(t, { sub: null, clientId: id }) };
}

async function revoke(token, client) {
  const { revocation_endpoint: endpoint } = await discover();
  const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${basic}` },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
  });
  await res.arrayBuffer();
  expect(res.status === 200, `revocation HTTP ${res.status}`);
}

const INTROSPECTION = {
  'opaque-with-aud-accepted': async () => {
    const { me } = await introspectionOpaqueAccepted('aud');
    expect((me.audiences || []).includes(MCP_URL), `whoami audiences ${show(me.audiences)}`);
  },
  'opaque-without-aud-rejected-401': async () => {
    const { access_token: t } = await clientCredentials({ client: CLIENTS.cc });
    await expect401(t, { error: 'invalid_token' });
  },
  'revoked-token-rejected-cache-off': async () => {
    const { token } = await introspectionOpaqueAccepted('aud');
    await revoke(token, CLIENTS.ccOpaque);
    await expect401(token, { error: 'invalid_token' });
  },
  'jwt-access-token-rejected-401': async () => {
    // oidc-provider refuses to introspect JWT access tokens (400): warden must answer 401,
    // not 503 — a 4xx from introspection is a verdict, not an outage.
    await expect401(await ccToken(CLIENTS.cc), { error: 'invalid_token' });
  },
};

const INTROSPECTION_LENIENT = {
  'opaque-without-aud-accepted': async () => {
    await introspectionOpaqueAccepted('none');
  },
  'revoked-token-served-from-cache': async () => {
    // cache_ttl = 60s: the verdict of the first use is reused after revocation
    // (documented trade-off of the positive cache).
    const { token } = await introspectionOpaqueAccepted('aud');
    await revoke(token, CLIENTS.ccOpaque);
    await expectTokenAccepted(token, { clientId: CLIENTS.ccOpaque.client_id });
  },
};

const LOGTO = {
  // B 8b: opaque login token for alice → userinfo path.
  'opaque-login-token-userinfo-whoami': async () => {
    const { access_token: t } = await authorizationCodeLogin({ user: 'alice' });
    expect(!isJwt(t), 'expected an opaque login token');
    const me = await expectTokenAccepted(t, { sub: 'alice' });
    const a = ACCOUNTS.alice;
    expect(me.name === a.name, `whoami name ${show(me.name)}, want ${show(a.name)}`);
    expect(me.email === a.email, `whoami email ${show(me.email)}, want ${show(a.email)}`);
    expect(me.username === a.username, `whoami username ${show(me.username)}, want ${show(a.username)}`);
    expect(me.issuer === ISSUER, `whoami issuer ${show(me.issuer)}, want ${ISSUER}`);
  },
  'opaque-token-of-bob-is-bob': async () => {
    const { access_token: t } = await authorizationCodeLogin({ user: 'bob' });
    const me = await expectTokenAccepted(t, { sub: 'bob' });
    expect(me.email === ACCOUNTS.bob.email, `whoami email ${show(me.email)}`);
  },
  'garbage-opaque-token-rejected-401': async () => {
    await expect401('not-a-real-token-0123456789abcdef', { error: 'invalid_token' });
  },
  'jwt-for-mcp-resource-accepted': async () => {
    const { access_token: t } = await authorizationCodeLogin({ user: 'alice', resource: MCP_URL });
    expect(isJwt(t), 'expected a JWT for the MCP resource');
    await expectTokenAccepted(t, { sub: 'alice' });
  },
  // E2: the SDK logs alice in without an API resource (Logto's opaque tokens).
  'sdk-login-dcr-pkce-opaque-userinfo': async () => {
    const { client, token } = await loginFlow({ noResource: true });
    try {
      expect(!isJwt(token), 'the login token is a JWT; expected opaque');
      const me = await whoami(client);
      expect(me.sub === 'alice', `whoami sub ${show(me.sub)}`);
      expect(me.name === ACCOUNTS.alice.name && me.email === ACCOUNTS.alice.email,
        `whoami name/email ${show(me.name)} ${show(me.email)}`);
    } finally {
      await client.close();
    }
  },
};

export const GROUPS = {
  dev: DEV,
  jwt: JWT,
  introspection: INTROSPECTION,
  'introspection-lenient': INTROSPECTION_LENIENT,
  logto: LOGTO,
};

async function main(argv) {
  const [first, second] = argv;
  if (first === '--list') {
    const group = GROUPS[second];
    if (!group) {
      process.stderr.write(`unknown group ${show(second)}\n`);
      return 2;
    }
    process.stdout.write(`${Object.keys(group).join('\n')}\n`);
    return 0;
  }
  const check = GROUPS[first]?.[second];
  if (!check) {
    process.stderr.write(`unknown check ${show(first)} ${show(second)}; try --list GROUP\n`);
    return 2;
  }
  try {
    await check();
    return 0;
  } catch (err) {
    const reason = err instanceof CheckFailed || err instanceof TokenError
      ? err.message
      : `${err.name}: ${err.message}`;
    process.stderr.write(`${String(reason).replace(/\s+/g, ' ').slice(0, 400)}\n`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // SSE clients may keep sockets open a moment; a check is done when main returns.
    setTimeout(() => process.exit(code), 50).unref();
  });
}
