// Shared knobs of the interop harness: ports, URLs and the static OAuth clients.
// Everything is loopback-only. Values come from the environment with fixed defaults so
// that the AS (as/server.mjs), the token helpers (lib/tokens.mjs) and run.sh agree.
//
// The client secrets below are fixed test credentials of a throw-away local AS; they
// protect nothing. They are still never written to logs.

const env = process.env;

/** Port of the authorization server (loopback). */
export const AS_PORT = Number(env.AS_PORT || 9400);

/** Optional issuer path, e.g. "/oidc" (Logto style). Empty = issuer is the origin. */
export const AS_ISSUER_PATH = normalizePath(env.AS_ISSUER_PATH || '');

/** The issuer identifier, e.g. http://127.0.0.1:9400 or http://127.0.0.1:9400/oidc. */
export const ISSUER = `http://127.0.0.1:${AS_PORT}${AS_ISSUER_PATH}`;

/** The MCP resource (RFC 8707 indicator) whose tokens are JWTs with aud = this URL. */
export const MCP_RESOURCE = env.MCP_RESOURCE || 'http://127.0.0.1:10000/mcp';

/** A second, unrelated resource: its tokens must be rejected by a warden guarding MCP_RESOURCE. */
export const MCP_OTHER_RESOURCE = env.MCP_OTHER_RESOURCE || 'http://127.0.0.1:10001/other';

/**
 * Resource indicators of warden's legacy HTTP+SSE endpoint: `{origin}/sse` and the bare
 * origin. A client of `GET /sse` derives its RFC 8707 resource from that URL (RFC 9728
 * §3.3: the metadata's `resource` must match the URL requested), so the AS issues tokens
 * for them too (same format as for MCP_RESOURCE).
 */
export const MCP_LEGACY_RESOURCES = [`${new URL(MCP_RESOURCE).origin}/sse`, new URL(MCP_RESOURCE).origin];

/** Scopes the MCP resource server accepts. */
export const RESOURCE_SCOPES = 'news:read profile';

/** Redirect URI of the public auth-code client (served by the AS itself as a tiny page). */
export const REDIRECT_URI = `http://127.0.0.1:${AS_PORT}/cb`;

/**
 * Static clients. `at_jwt_alg` (extra client metadata understood by as/server.mjs) picks the
 * signing algorithm of the JWT access tokens this client receives for MCP_RESOURCE;
 * `at_format: "opaque"` makes its resource-bound tokens opaque (introspectable, with aud).
 */
export const CLIENTS = {
  // Client credentials, ES256 JWTs for the MCP resource.
  cc: { client_id: 'mcp-cc-client', client_secret: 'mcp-cc-secret', scope: 'news:read profile', at_jwt_alg: 'ES256' },
  // Client credentials, RS256 JWTs for the MCP resource.
  ccRs256: { client_id: 'mcp-cc-client-rs256', client_secret: 'mcp-cc-rs256-secret', scope: 'news:read profile', at_jwt_alg: 'RS256' },
  // Client credentials limited to `profile` (step-up / insufficient_scope tests).
  ccProfile: { client_id: 'mcp-cc-profile', client_secret: 'mcp-cc-profile-secret', scope: 'profile', at_jwt_alg: 'ES256' },
  // Client credentials whose resource-bound tokens are opaque (introspection with aud).
  ccOpaque: { client_id: 'mcp-cc-opaque', client_secret: 'mcp-cc-opaque-secret', scope: 'news:read profile', at_format: 'opaque' },
  // The resource server itself (warden): calls introspection with client_secret_basic.
  warden: { client_id: 'warden-rs', client_secret: 'warden-rs-secret' },
  // Public auth-code client with PKCE (user login for alice).
  public: { client_id: 'mcp-public-client', redirect_uri: REDIRECT_URI, at_jwt_alg: 'ES256' },
};

/** Users the scripted login knows (selected with login_hint; default alice). */
export const ACCOUNTS = {
  alice: {
    sub: 'alice',
    name: 'Alice Example',
    preferred_username: 'alice',
    username: 'alice',
    email: 'alice@example.test',
    email_verified: true,
  },
  bob: {
    sub: 'bob',
    name: 'Bob Example',
    preferred_username: 'bob',
    username: 'bob',
    email: 'bob@example.test',
    email_verified: false,
  },
};

function normalizePath(p) {
  if (!p || p === '/') return '';
  const withSlash = p.startsWith('/') ? p : `/${p}`;
  return withSlash.endsWith('/') ? withSlash.slice(0, -1) : withSlash;
}
