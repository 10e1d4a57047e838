#!/usr/bin/env node
// The test runner behind `npm test` (after typecheck and compile): `node --test` on the compiled
// test files, build/test/**/*.test.js, and nothing else. Passing the directory instead would make
// Node 20 load every .js under build/test (helpers such as build/test/support/*.js count as test
// files there), and Node 18 has no globs, so the files are listed here and passed by name.
//
//   node scripts/test.mjs                          every build/test/**/*.test.js
//   node scripts/test.mjs build/test/http2 [...]   only those directories / files (.test.js)
//   node scripts/test.mjs --test-name-pattern=hpack build/test/http2   other flags go to node
//
// Flags added when the running Node has them: --test-concurrency=2 (Node >= 20.10; two files at a
// time, the machine has two cores) and --test-timeout=120000 (Node >= 20.11). Node 18 runs without
// them. The exit code is node --test's.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const [major, minor] = process.versions.node.split('.').map(Number);
const atLeast = (maj, min) => major > maj || (major === maj && minor >= min);

function testFiles(dir, out) {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) testFiles(p, out);
    else if (d.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const flags = [];
const files = [];
const args = process.argv.slice(2);
for (const a of args.filter((x) => !x.startsWith('-'))) {
  const p = resolve(a);
  if (!existsSync(p)) {
    console.error(`test: ${a} does not exist (run node scripts/compile.mjs first?)`);
    process.exit(2);
  }
  if (statSync(p).isDirectory()) files.push(...testFiles(p, []).sort());
  else files.push(p);
}
if (files.length === 0 && !args.some((x) => !x.startsWith('-'))) {
  const dir = join(ROOT, 'build', 'test');
  if (!existsSync(dir)) {
    console.error('test: build/test does not exist: run node scripts/compile.mjs first');
    process.exit(2);
  }
  files.push(...testFiles(dir, []).sort());
}
if (files.length === 0) {
  console.error(`test: no *.test.js under ${args.join(' ')}`);
  process.exit(2);
}
if (atLeast(20, 10)) flags.push('--test-concurrency=2');
if (atLeast(20, 11)) flags.push('--test-timeout=120000');
flags.push(...args.filter((x) => x.startsWith('-')));

const child = spawn(process.execPath, ['--test', ...flags, ...files.map((f) => relative(process.cwd(), f) || f)], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  else process.exit(code ?? 1);
});
