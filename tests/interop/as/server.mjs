// A real OAuth 2.1 / OpenID Connect authorization server (panva's oidc-provider, the engine
// under Logto) for warden's interop suite. Loopback only; state is in memory.
//
//   node as/server.mjs        (env: AS_PORT, AS_ISSUER_PATH, MCP_RESOURCE, MCP_OTHER_RESOURCE)
//
// See ../README.md for the clients, endpoints and how each token kind is obtained.

import crypto from 'node:crypto';
import http from 'node:http';

import Provider, { errors } from 'oidc-provider';

import {
  ACCOUNTS,
  AS_ISSUER_PATH,
  AS_PORT,
  CLIENTS,
  ISSUER,
  MCP_LEGACY_RESOURCES,
  MCP_OTHER_RESOURCE,
  MCP_RESOURCE,
  RESOURCE_SCOPES,
} from '../lib/settings.mjs';

const log = (msg) => process.stderr.write(`[as] ${msg}\n`);

// ---------------------------------------------------------------------------------------
// Signing keys: one ES256 (P-256) and one RS256 (RSA 2048) key, fresh at every start.
// id_tokens use RS256 (the OIDC default); access tokens use the per-client `at_jwt_alg`.

function signingKey(type, options, alg) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${crypto.randomBytes(6).toString('hex')}` };
}

const keys = [
  signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
  signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
];

// ---------------------------------------------------------------------------------------
// Static clients (ids and secrets in lib/settings.mjs).

function ccClient({ client_id, client_secret, scope, at_jwt_alg, at_format }) {
  return {
    client_id,
    client_secret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope,
    ...(at_jwt_alg ? { at_jwt_alg } : {}),
    ...(at_format ? { at_format } : {}),
  };
}

const clients = [
  ccClient(CLIENTS.cc),
  ccClient(CLIENTS.ccRs256),
  ccClient(CLIENTS.ccProfile),
  ccClient(CLIENTS.ccOpaque),
  // warden: only calls introspection (and may use client credentials itself).
  ccClient({ ...CLIENTS.warden, scope: undefined }),
  {
    client_id: CLIENTS.public.client_id,
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [CLIENTS.public.redirect_uri],
    at_jwt_alg: CLIENTS.public.at_jwt_alg,
  },
];

// ---------------------------------------------------------------------------------------
// Resource servers (RFC 8707). MCP_RESOURCE, MCP_OTHER_RESOURCE and the legacy SSE
// endpoint's indicators (MCP_LEGACY_RESOURCES: {origin}/sse, {origin}) are known; tokens for
// them are JWTs (typ at+jwt) signed with the client's `at_jwt_alg` (default ES256), or
// opaque when the client has `at_format: "opaque"`.

const RESOURCES = new Set([MCP_RESOURCE, MCP_OTHER_RESOURCE, ...MCP_LEGACY_RESOURCES]);
const JWT_ALGS = new Set(['ES256', 'RS256']);
const FORMATS = new Set(['jwt', 'opaque']);

async function getResourceServerInfo(ctx, resourceIndicator, client) {
  if (!RESOURCES.has(resourceIndicator)) {
    throw new errors.InvalidTarget(`unknown resource indicator ${resourceIndicator}`);
  }
  const meta = client.metadata();
  const format = meta.at_format || 'jwt';
  const info = {
    scope: RESOURCE_SCOPES,
    audience: resourceIndicator,
    accessTokenTTL: 600,
    accessTokenFormat: format,
  };
  if (format === 'jwt') {
    info.jwt = { sign: { alg: meta.at_jwt_alg || 'ES256' } };
  }
  return info;
}

function extraClientMetadataValidator(ctx, key, value) {
  if (value === undefined) return;
  if (key === 'at_jwt_alg' && !JWT_ALGS.has(value)) {
    throw new errors.InvalidClientMetadata('at_jwt_alg must be ES256 or RS256');
  }
  if (key === 'at_format' && !FORMATS.has(value)) {
    throw new errors.InvalidClientMetadata('at_format must be jwt or opaque');
  }
}

// ---------------------------------------------------------------------------------------
// Accounts and claims.

async function findAccount(ctx, sub) {
  const account = ACCOUNTS[sub];
  if (!account) return undefined;
  return {
    accountId: sub,
    async claims() {
      return { ...account };
    },
  };
}

// ---------------------------------------------------------------------------------------
// Policies.

// Any authenticated confidential client (warden-rs in particular) may introspect any token;
// public clients only their own.
async function introspectionAllowedPolicy(ctx, client, token) {
  if (client.clientAuthMethod === 'none' && token.clientId !== client.clientId) return false;
  return true;
}

// Clients may revoke only their own tokens.
async function revocationAllowedPolicy(ctx, client, token) {
  if (token.clientId !== client.clientId) {
    if (client.clientAuthMethod === 'none') return false;
    throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
  }
  return true;
}

async function renderError(ctx, out) {
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = `${out.error}${out.error_description ? `: ${out.error_description}` : ''}\n`;
}

// ---------------------------------------------------------------------------------------
// The provider.

const configuration = {
  clients,
  jwks: { keys },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'news:read'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'username'],
    email: ['email', 'email_verified'],
  },
  findAccount,
  // OAuth 2.1: authorization code only (no implicit / hybrid).
  responseTypes: ['code'],
  extraClientMetadata: {
    properties: ['at_jwt_alg', 'at_format'],
    validator: extraClientMetadataValidator,
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: introspectionAllowedPolicy },
    revocation: { enabled: true, allowedPolicy: revocationAllowedPolicy },
    registration: { enabled: true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // No resource requested → no resource → opaque token that userinfo accepts.
      defaultResource: async (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: async () => false,
      getResourceServerInfo,
    },
  },
  // OAuth 2.1: PKCE for every authorization-code request, public or confidential.
  pkce: { required: () => true },
  interactions: {
    url: async (_ctx, interaction) => `${AS_ISSUER_PATH}/interaction/${interaction.uid}`,
  },
  ttl: {
    AccessToken: 600,
    ClientCredentials: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    RefreshToken: 3600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  // Loopback test server: let browser-based MCP clients (the inspector UI) call it.
  clientBasedCORS: () => true,
  renderError,
};

const provider = new Provider(ISSUER, configuration);

for (const event of [
  'server_error',
  'authorization.error',
  'grant.error',
  'introspection.error',
  'revocation.error',
  'registration_create.error',
  'userinfo.error',
  'jwks.error',
  'discovery.error',
]) {
  provider.on(event, (...args) => {
    const err = args.find((a) => a instanceof Error);
    if (!err) return;
    const detail = err.error_description ? `: ${err.error_description}` : '';
    log(`${event} ${err.error || err.name}${detail}`);
    if (event === 'server_error') log(err.stack);
  });
}
provider.on('grant.success', (ctx) => {
  const { params, entities } = ctx.oidc;
  const token = entities.ClientCredentials || entities.AccessToken;
  const format = token?.resourceServer ? (token.resourceServer.accessTokenFormat || 'opaque') : 'opaque';
  log(`issued ${params.grant_type} token client=${ctx.oidc.client?.clientId} format=${format}`
    + `${token?.resourceServer ? ` aud=${token.resourceServer.audience}` : ''}`);
});
provider.on('registration_create.success', (ctx, client) => {
  log(`registered client ${client.clientId}`);
});

// ---------------------------------------------------------------------------------------
// Scripted login + consent: GET /interaction/:uid finishes the interaction at once.
// Login picks the account from login_hint (alice when absent); consent grants everything
// requested (OIDC scopes, claims and resource scopes).

async function handleInteraction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;

  if (prompt.name === 'login') {
    const hint = params.login_hint || 'alice';
    if (!ACCOUNTS[hint]) {
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'unknown user',
      }, { mergeWithLastSubmission: false });
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: hint } }, { mergeWithLastSubmission: false });
    return;
  }

  if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    const consent = details.grantId ? {} : { grantId };
    await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
    return;
  }

  res.statusCode = 400;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(`unsupported prompt ${prompt.name}\n`);
}

// ---------------------------------------------------------------------------------------
// HTTP front: issuer-path mounting, RFC 8414 metadata aliases, the /cb landing page.

const callback = provider.callback();
const DISCOVERY = '/.well-known/openid-configuration';
// Metadata URLs clients try (RFC 8414 path insertion and the OIDC forms) → OIDC discovery.
const METADATA_ALIASES = new Set([
  `/.well-known/oauth-authorization-server${AS_ISSUER_PATH}`,
  `/.well-known/openid-configuration${AS_ISSUER_PATH}`,
  `${AS_ISSUER_PATH}/.well-known/oauth-authorization-server`,
]);

function plain(res, status, text) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(`${text}\n`);
}

async function route(req, res) {
  const url = new URL(req.url, ISSUER);
  let { pathname } = url;

  if (pathname === '/cb') {
    plain(res, 200, 'authorization response received; the token helper reads it from the redirect');
    return;
  }
  if (METADATA_ALIASES.has(pathname)) {
    pathname = `${AS_ISSUER_PATH}${DISCOVERY}`;
    req.url = `${pathname}${url.search}`;
  }
  if (AS_ISSUER_PATH && pathname !== AS_ISSUER_PATH && !pathname.startsWith(`${AS_ISSUER_PATH}/`)) {
    plain(res, 404, 'not found');
    return;
  }

  // Mount below the issuer path the way Express does: originalUrl keeps the prefix.
  req.originalUrl = req.url;
  req.url = req.url.slice(AS_ISSUER_PATH.length) || '/';
  if (req.url.startsWith('?')) req.url = `/${req.url}`;

  if (req.url.startsWith('/interaction/')) {
    try {
      await handleInteraction(req, res);
    } catch (err) {
      log(`interaction error ${err.name}: ${err.error_description || err.message}`);
      if (!res.headersSent) plain(res, 400, `interaction failed: ${err.error_description || err.message}`);
    }
    return;
  }
  await callback(req, res);
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0]; // never log query strings (codes, state)
  res.on('finish', () => log(`${req.method} ${path} ${res.statusCode}`));
  route(req, res).catch((err) => {
    log(`unhandled ${err.name}: ${err.message}`);
    if (!res.headersSent) plain(res, 500, 'internal error');
  });
});

server.listen(AS_PORT, '127.0.0.1', () => {
  log(`listening issuer=${ISSUER} resource=${MCP_RESOURCE} other=${MCP_OTHER_RESOURCE}`
    + ` kids=${keys.map((k) => k.kid).join(',')}`);
});

function shutdown(signal) {
  log(`${signal}: shutting down`);
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
