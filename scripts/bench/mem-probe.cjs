// Memory probe for a server under test: preload it (node --expose-gc -r ./scripts/bench/mem-probe.cjs
// server.js ...). On SIGUSR2 it runs a full GC (when --expose-gc is given, unless MEM_PROBE_GC=0 is
// in its environment: then the figures are as the server left them) and prints one line:
//   mem {"rss":...,"heapUsed":...,"heapTotal":...,"external":...,"arrayBuffers":...,"hwm":...,"newSpace":...}
// (bytes; hwm is VmHWM, the peak RSS; newSpace the young generation's physical size).
// scripts/bench/mem.mjs and the memory tests read it.
'use strict';
const { readFileSync } = require('node:fs');
const v8 = require('node:v8');
const GC = process.env.MEM_PROBE_GC !== '0';
function hwm() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
process.on('SIGUSR2', () => {
  if (GC && typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
  const u = process.memoryUsage();
  const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  const o = { rss: u.rss, heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external, arrayBuffers: u.arrayBuffers, hwm: hwm(), newSpace: ns ? ns.physical_space_size : 0 };
  process.stdout.write(`mem ${JSON.stringify(o)}\n`);
});
