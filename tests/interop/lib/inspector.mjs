// warden checks driven by the MCP Inspector CLI (@modelcontextprotocol/inspector 1.0.3,
// `mcp-inspector --cli URL --transport http|sse --method … --header "Authorization: Bearer …"`).
//
//   node lib/inspector.mjs --list     check names
//   node lib/inspector.mjs NAME       exit 0 on success; else one reason line, exit 1
//
// Tokens come from the interop AS (lib/tokens.mjs) and are scrubbed from every reason.
// Inspector 1.0.3's CLI has no OAuth support at all (no auth provider, no --client-id;
// MCP_AUTO_OPEN_ENABLED/BROWSER only concern the web UI), so these checks use --header.

import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { EXPECTED_ACME } from '../av/fixture.mjs';
import { CheckFailed, MCP_URL, ORIGIN, expect, show } from './mcp.mjs';
import { CLIENTS } from './settings.mjs';
import { TokenError, clientCredentials } from './tokens.mjs';

const HERE = dirname(dirname(fileURLToPath(import.meta.url)));
const INSPECTOR = join(HERE, 'node_modules/@modelcontextprotocol/inspector/cli/build/cli.js');

let secrets = [];
const scrub = (s) => secrets.reduce((acc, t) => acc.split(t).join('<token>'), String(s));

async function token(client) {
  const t = (await clientCredentials({ client, resource: MCP_URL })).access_token;
  secrets.push(t);
  return t;
}

/** Runs the Inspector CLI; resolves { code, stdout, stderr } (never rejects on exit codes). */
function inspector(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [INSPECTOR, '--cli', ...args], { timeout: 60_000, maxBuffer: 8 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

function json(out, what) {
  const start = out.stdout.indexOf('{');
  expect(out.code === 0 && start >= 0,
    `${what}: exit ${out.code}: ${scrub(`${out.stderr} ${out.stdout}`).replace(/\s+/g, ' ').slice(-300)}`);
  try {
    return JSON.parse(out.stdout.slice(start));
  } catch {
    throw new CheckFailed(`${what}: stdout is not JSON: ${scrub(out.stdout).slice(0, 200)}`);
  }
}

const bearer = (t) => ['--header', `Authorization: Bearer ${t}`];

async function toolsList(url, transport) {
  const out = await inspector([url, '--transport', transport, '--method', 'tools/list', ...bearer(await token(CLIENTS.cc))]);
  const names = (json(out, 'tools/list').tools || []).map((t) => t.name).sort();
  expect(show(names) === show(['news_sentiment', 'whoami']), `tools/list gave ${show(names)}`);
}

export const CHECKS = {
  'http-tools-list-bearer': () => toolsList(MCP_URL, 'http'),
  'http-tools-call-news-sentiment-bearer': async () => {
    const out = await inspector([MCP_URL, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'news_sentiment',
      '--tool-arg', 'ticker=ACME', ...bearer(await token(CLIENTS.cc))]);
    const r = json(out, 'tools/call news_sentiment');
    expect(!r.isError, `news_sentiment isError: ${JSON.stringify(r.content).slice(0, 200)}`);
    const s = r.structuredContent || {};
    expect(s.ticker === 'ACME' && Math.abs(s.sentiment_score - EXPECTED_ACME.sentiment_score) < 1e-6,
      `news_sentiment gave ticker ${show(s.ticker)} score ${show(s.sentiment_score)}`);
  },
  'http-tools-call-whoami-bearer': async () => {
    const out = await inspector([MCP_URL, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'whoami',
      ...bearer(await token(CLIENTS.ccRs256))]);
    const s = json(out, 'tools/call whoami').structuredContent || {};
    expect(s.sub === CLIENTS.ccRs256.client_id, `whoami sub ${show(s.sub)}`);
  },
  'http-without-scope-refused': async () => {
    const out = await inspector([MCP_URL, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'news_sentiment',
      '--tool-arg', 'ticker=ACME', ...bearer(await token(CLIENTS.ccProfile))]);
    expect(out.code !== 0, 'news_sentiment without news:read succeeded through the Inspector');
    expect(/insufficient_scope/.test(out.stderr + out.stdout), `the Inspector failed without insufficient_scope: ${scrub(out.stderr).replace(/\s+/g, ' ').slice(-200)}`);
  },
  'http-without-token-refused': async () => {
    const out = await inspector([MCP_URL, '--transport', 'http', '--method', 'tools/list']);
    expect(out.code !== 0, 'tools/list without a token succeeded');
    expect(/bearer token is required/.test(out.stderr + out.stdout), `the Inspector failed for another reason: ${out.stderr.replace(/\s+/g, ' ').slice(-200)}`);
  },
  'sse-tools-list-bearer': () => toolsList(`${ORIGIN}/sse`, 'sse'),
  'sse-tools-call-whoami-bearer': async () => {
    const out = await inspector([`${ORIGIN}/sse`, '--transport', 'sse', '--method', 'tools/call', '--tool-name', 'whoami',
      ...bearer(await token(CLIENTS.cc))]);
    const s = json(out, 'tools/call whoami over SSE').structuredContent || {};
    expect(s.sub === CLIENTS.cc.client_id, `whoami sub ${show(s.sub)}`);
  },
  'sse-without-scope-refused': async () => {
    const out = await inspector([`${ORIGIN}/sse`, '--transport', 'sse', '--method', 'tools/call', '--tool-name', 'news_sentiment',
      '--tool-arg', 'ticker=ACME', ...bearer(await token(CLIENTS.ccProfile))]);
    expect(out.code !== 0, 'news_sentiment over SSE without news:read succeeded through the Inspector');
    expect(/403|insufficient_scope/.test(out.stderr + out.stdout), `the Inspector failed without 403/insufficient_scope: ${scrub(out.stderr).replace(/\s+/g, ' ').slice(-200)}`);
  },
};

async function main([name]) {
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
    const reason = err instanceof CheckFailed || err instanceof TokenError ? err.message : `${err.name}: ${err.message}`;
    process.stderr.write(`${scrub(reason).replace(/\s+/g, ' ')}\n`);
    return 1;
  } finally {
    secrets = [];
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
