// v8gc() (src/server/builtins.ts): the gc() of the server's reclaim after a burst of connections,
// taken in-process, so that no profile needs --expose-gc. Each case runs in a node of its own (the
// function is looked for once per process, and V8 flags are process-wide). The reclaim itself, in a
// server, is tested by reclaim-memory.test.ts; inside the single executables by sea.test.ts and
// `npm run test:qemu`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fromRoot } from '../support/paths.js';

/** Run `code` (an ES module that imports v8gc as `v8gc`) in a node with `flags`; its one JSON line. */
function inChild(flags: string[], code: string): any {
  const src = `import { v8gc } from ${JSON.stringify(fromRoot('build/src/server/builtins.js'))};\n${code}`;
  const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', src], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `child exited ${r.status}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

test('without --expose-gc: a working gc() from a context of its own, none left on any global', () => {
  const seen = inChild([], `
    import { runInNewContext } from 'node:vm';
    import { Worker } from 'node:worker_threads';
    const before = typeof globalThis.gc;
    const gc = v8gc();
    // An object only a WeakRef holds is gone after gc() (in a later task: V8 keeps WeakRef targets
    // alive until the end of the task that made or read them).
    const ref = new WeakRef({ big: new Array(1000).fill(0) });
    await new Promise((r) => setTimeout(r, 0));
    gc();
    const worker = await new Promise((resolve, reject) => {
      const w = new Worker('import("node:worker_threads").then((m) => m.parentPort.postMessage(typeof gc))', { eval: true });
      w.once('message', resolve).once('error', reject);
    });
    console.log(JSON.stringify({ before, type: typeof gc, once: v8gc() === gc, collected: ref.deref() === undefined,
      main: typeof globalThis.gc, context: runInNewContext('typeof gc'), worker }));
  `);
  assert.deepEqual(seen, { before: 'undefined', type: 'function', once: true, collected: true, main: 'undefined', context: 'undefined', worker: 'undefined' });
});

test('with --expose-gc: the global gc() itself', () => {
  assert.deepEqual(inChild(['--expose-gc'], 'console.log(JSON.stringify(v8gc() === globalThis.gc));'), true);
});

test('when V8 gives no gc() under that name (--expose-gc-as): false, and the reclaim stays off', () => {
  assert.deepEqual(inChild(['--expose-gc-as=collect'], 'console.log(JSON.stringify(v8gc()));'), false);
});
