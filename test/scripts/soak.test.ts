// `npm run soak` end to end with tiny durations: it builds the soak bundle, runs the unloaded
// baseline, the mixed row, every flood row and the HTTP/1.1 rows against it, and prints a table with all rows. What is
// checked is the shape and that the server stayed up and answered after each row, never a timing
// figure or a PASS / MISS (those depend on the machine).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from '../support/paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'edge-soak-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const LABELS = ['unloaded', 'mixed (issue 9)', 'SETTINGS flood', 'PING flood', 'empty-DATA flood', 'CONTINUATION flood', 'HPACK bomb', 'ignores GOAWAY', 'HTTP/1.1 slowloris', 'HTTP/1.1 pipelining'];

interface SoakRow {
  id: string;
  up: boolean;
  honest: { unary?: { ok: number }; error?: string };
  attack: { counters?: Record<string, { connects: number }>; error?: string };
  verdicts: Record<string, string>;
  connections: { keys: string[] };
}

test('npm run soak with tiny durations: a table with every row, the server up after each', async () => {
  const out = join(tmp, 'soak.json');
  const args = [
    fromRoot('scripts/soak.mjs'),
    '--seconds', '0.3', '--baseline', '0.5', '--settle', '0.1', '--idle', '20', '--no-compile', '--out', out,
    '--attack', JSON.stringify({ slowloris: 4, zeroWindow: 1, churn: 1, rapidReset: 1, h1Slow: 6 }),
  ];
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, args, { cwd: fromRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
    let o = '';
    let e = '';
    child.stdout.on('data', (d) => (o += d));
    child.stderr.on('data', (d) => (e += d));
    child.on('exit', (c) => resolve({ code: c, stdout: o, stderr: e }));
  });
  assert.equal(code, 0, `soak exited ${code}\n${stdout}\n${stderr}`);

  const tableLines = stdout.split('\n').filter((l) => l.startsWith('| '));
  assert.equal(tableLines.length, 1 + LABELS.length, stdout); // header + one line per row
  for (const label of LABELS) assert.ok(tableLines.some((l) => l.startsWith(`| ${label} `)), `no table row "${label}"\n${stdout}`);
  for (const l of tableLines.slice(2)) assert.match(l, /\| yes PASS +\|$/, `server not up after a row: ${l}`);

  const json = JSON.parse(readFileSync(out, 'utf8')) as { rows: SoakRow[]; baseline: { unary: { ok: number } } };
  assert.deepEqual(json.rows.map((r) => r.id), ['mixed', 'settings', 'ping', 'empty-data', 'continuation', 'hpack-bomb', 'ignore-goaway', 'h1-slowloris', 'h1-pipeline']);
  assert.ok(json.baseline.unary.ok > 0, 'the unloaded baseline made calls');
  for (const r of json.rows) {
    assert.equal(r.up, true, `${r.id}: server not up`);
    assert.equal(r.honest.error, undefined, `${r.id}: honest client: ${r.honest.error}`);
    assert.equal(r.attack.error, undefined, `${r.id}: attacker: ${r.attack.error}`);
    // The attackers did connect (each row really attacked).
    const connects = Object.values(r.attack.counters ?? {}).reduce((s, k) => s + k.connects, 0);
    assert.ok(connects > 0, `${r.id}: the attackers made no connection`);
    for (const [k, v] of Object.entries(r.verdicts)) assert.match(v, /^(PASS|MISS)$/, `${r.id}: verdict ${k}`);
    // server.stats' connection counters reach the table (their names are what the soak looks for).
    assert.deepEqual(r.connections.keys.sort(), ['connectionsEvicted', 'connectionsRefused'], `${r.id}: server.stats keys`);
  }
});
