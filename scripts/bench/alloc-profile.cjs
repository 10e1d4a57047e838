// Allocation profile of a server under load: preload it (node -r ./scripts/bench/alloc-profile.cjs
// server.js ...), put load on the server, then send SIGTERM. Prints where the bytes allocated
// during the run came from (V8's sampling heap profiler, keeping objects the scavenger or the
// mark-compactor already freed), grouped by the allocating function and its two callers.
// Run it on the unbundled build (build/examples/...) with --no-turbo-inlining for exact names.
//   ALLOC_PROF_INTERVAL  sampling interval in bytes (default 512)
//   ALLOC_PROF_TOP       rows to print (default 45)
'use strict';
const inspector = require('node:inspector');
const session = new inspector.Session();
session.connect();
const interval = Number(process.env.ALLOC_PROF_INTERVAL) || 512;
const top = Number(process.env.ALLOC_PROF_TOP) || 45;
// Start a little after start-up so module loading does not dominate.
setTimeout(() => {
  session.post('HeapProfiler.enable', () =>
    session.post('HeapProfiler.startSampling', {
      samplingInterval: interval,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    }),
  );
}, 300).unref();
process.on('SIGTERM', () => {
  session.post('HeapProfiler.stopSampling', (err, r) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
    const bySite = new Map();
    let total = 0;
    const walk = (node, stack) => {
      const f = node.callFrame;
      const name = `${f.functionName || '(anon)'} ${(f.url || '').split('/').pop()}:${f.lineNumber + 1}`;
      const st = stack.concat(name);
      if (node.selfSize) {
        total += node.selfSize;
        const key = st.slice(-3).reverse().join(' < ');
        bySite.set(key, (bySite.get(key) || 0) + node.selfSize);
      }
      for (const c of node.children) walk(c, st);
    };
    walk(r.profile.head, []);
    console.error(`allocated (sampled) ${(total / 1048576).toFixed(1)} MB`);
    for (const [k, v] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.error(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
    }
    process.exit(0);
  });
});
