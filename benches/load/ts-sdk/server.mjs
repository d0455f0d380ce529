// Load-test peer for benches/load/run.sh: the MCP TypeScript SDK's stateless
// Streamable HTTP server (JSON answers) behind the SDK's requireBearerAuth,
// whose verifier checks the row-(b) dev tokens with jose against the dev
// issuer's JWKS (fetched once, then cached by createRemoteJWKSet).
// One `whoami` tool shaped like warden's (structured content + text).
//
// Environment: PORT (listen port on 127.0.0.1), JWKS_URL, ISSUER, AUDIENCE.
// Stateless mode follows the SDK's documented pattern: a new McpServer and
// transport per request (a stateless transport refuses to be reused). The
// servers share one JSON Schema validator (ServerOptions.jsonSchemaValidator):
// by default each McpServer builds its own Ajv instance, which cost about a
// third of the throughput in a smoke run.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import * as z from 'zod';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const port = Number(env('PORT'));
const issuer = env('ISSUER');
const audience = env('AUDIENCE');
const jwks = createRemoteJWKSet(new URL(env('JWKS_URL')));
const jsonSchemaValidator = new AjvJsonSchemaValidator();

const verifier = {
  async verifyAccessToken(token) {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer,
        audience,
        algorithms: ['ES256'],
        typ: 'at+jwt',
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (e) {
      throw new InvalidTokenError(`invalid token: ${e.code ?? e.message}`);
    }
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
    return {
      token,
      clientId: payload.client_id ?? payload.sub,
      scopes,
      expiresAt: payload.exp,
      resource: new URL(Array.isArray(payload.aud) ? payload.aud[0] : payload.aud),
      extra: { claims: payload },
    };
  },
};

const nullable = (t) => t.nullable();
const outputSchema = {
  sub: nullable(z.string()),
  client_id: nullable(z.string()),
  issuer: nullable(z.string()),
  provider: z.string(),
  audiences: z.array(z.string()),
  scopes: z.array(z.string()),
  expires_at: nullable(z.number().int()),
  expires_at_rfc3339: nullable(z.string()),
  name: nullable(z.string()),
  username: nullable(z.string()),
  email: nullable(z.string()),
  email_verified: nullable(z.boolean()),
  picture: nullable(z.string()),
  organization_id: nullable(z.string()),
};

function whoami(auth) {
  const claims = auth?.extra?.claims ?? {};
  const aud = claims.aud === undefined ? [] : [].concat(claims.aud);
  const expiresRfc3339 = typeof claims.exp === 'number'
    ? new Date(claims.exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
    : null;
  const structured = {
    sub: claims.sub ?? null,
    client_id: auth?.clientId ?? null,
    issuer: claims.iss ?? null,
    provider: 'jose',
    audiences: aud,
    scopes: auth?.scopes ?? [],
    expires_at: claims.exp ?? null,
    expires_at_rfc3339: expiresRfc3339,
    name: claims.name ?? null,
    username: claims.username ?? claims.preferred_username ?? null,
    email: claims.email ?? null,
    email_verified: typeof claims.email_verified === 'boolean' ? claims.email_verified : null,
    picture: claims.picture ?? null,
    organization_id: claims.organization_id ?? claims.org_id ?? claims.oid ?? null,
  };
  const who = structured.username ?? structured.name ?? structured.sub ?? 'an unnamed principal';
  const scopes = structured.scopes.length ? structured.scopes.join(' ') : 'none';
  const expires = expiresRfc3339 ? `expires ${expiresRfc3339}` : 'no expiry known';
  const text = `You are ${who} (client ${structured.client_id ?? 'unknown'}) via provider jose; scopes: ${scopes}; ${expires}.`;
  return { content: [{ type: 'text', text }], structuredContent: structured };
}

function newServer() {
  const server = new McpServer({ name: 'ts-sdk-peer', version: '0.1.0' }, { jsonSchemaValidator });
  server.registerTool(
    'whoami',
    {
      title: 'Who am I?',
      description: 'Shows who you are according to the verified access token.',
      inputSchema: {},
      outputSchema,
    },
    async (_args, extra) => whoami(extra.authInfo),
  );
  return server;
}

const app = createMcpExpressApp({ host: '127.0.0.1' });
const auth = requireBearerAuth({ verifier });

app.post('/mcp', auth, async (req, res) => {
  const server = newServer();
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  try {
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  } catch (error) {
    if (!res.headersSent) {
      res.status(500).json({
        jsonrpc: '2.0',
        error: { code: -32603, message: `internal error: ${error}` },
        id: null,
      });
    }
  }
});

app.listen(port, '127.0.0.1', () => {
  console.log(`ready=1 port=${port}`);
});
