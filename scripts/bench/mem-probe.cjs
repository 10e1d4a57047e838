// Memory probe for a server under test: preload it (node --expose-gc -r ./scripts/bench/mem-probe.cjs
// server.js ...). On SIGUSR2 it runs a full GC (when --expose-gc is given) and prints one line:
//   mem {"rss":...,"heapUsed":...,"heapTotal":...,"external":...,"arrayBuffers":...,"hwm":...}
// (bytes; hwm is VmHWM, the peak RSS). scripts/bench/mem.mjs and the memory tests read it.
'use strict';
const { readFileSync } = require('node:fs');
function hwm() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
process.on('SIGUSR2', () => {
  if (typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
  const u = process.memoryUsage();
  const o = { rss: u.rss, heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external, arrayBuffers: u.arrayBuffers, hwm: hwm() };
  process.stdout.write(`mem ${JSON.stringify(o)}\n`);
});
