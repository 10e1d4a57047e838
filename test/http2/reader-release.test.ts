// What a closed FrameReader leaves for V8's young-generation GC (firmware-notes section 9, malloc's
// [heap] after connection churn). A connection, its reader and the reader's chunk array usually live
// in V8's old space; the socket chunks pushed into that array are young. When the reader is closed
// and the connection dies, a scavenge still treats the dead old array's slots as roots: a chunk it
// still points to survives, is promoted, and waits (with its 64 KB malloc'd backing store) for the
// next full GC. Under floods of short connections that was most of malloc's heap at its peak, and
// the peak is what the heap stays at. So close() empties the array in place instead of replacing it.
// Runs in a node of its own with --expose-gc (gc({ type: 'minor' }) is a scavenge).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fromRoot } from '../support/paths.js';

test('a dead, closed reader does not keep its unread chunks alive through scavenges', () => {
  const src = `
    import { FrameReader } from ${JSON.stringify(fromRoot('build/src/http2/frame/reader.js'))};
    const MiB = 1 << 20;
    let reader = new FrameReader({ maxFrameSize: 16384, maxContinuationFrames: 32, maxHeaderBlockSize: 65536, expectPreface: false });
    gc(); gc(); // the reader and its chunk array now live in the old generation, as a connection's do
    // 4 MiB that arrive and are never read (in a function of their own: no local keeps them)
    (() => { const chunk = Buffer.allocUnsafeSlow(4 * MiB); chunk.fill(0); reader.push(chunk); })();
    const held = process.memoryUsage().arrayBuffers;
    reader.close();
    reader = null;
    // scavenges only (the sweep of freed buffers finishes in the background: give it turns)
    let left = held;
    for (let i = 0; i < 50 && left > held - 4 * MiB; i++) {
      gc({ type: 'minor' });
      await new Promise((r) => setTimeout(r, 5));
      left = process.memoryUsage().arrayBuffers;
    }
    console.log(JSON.stringify({ heldMiB: held / MiB, freedMiB: (held - left) / MiB }));
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', src], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `child exited ${r.status}: ${r.stdout}${r.stderr}`);
  const seen = JSON.parse(r.stdout) as { heldMiB: number; freedMiB: number };
  assert.ok(seen.heldMiB >= 4, `the chunk was counted: ${r.stdout}`);
  assert.ok(seen.freedMiB >= 4, `a scavenge freed the closed reader's chunk: ${r.stdout}`);
});
