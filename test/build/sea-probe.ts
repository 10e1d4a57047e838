// The entry of the probe executable that test/build/sea.test.ts and `npm run test:qemu` build with
// `--sea`: it prints what the running program sees (its node flags, heap limit, the baked board) as
// one line and exits, so the tests can check that the profile's flags apply inside the executable.
//
// `probe reclaim` first runs the server's reclaim after a burst of connections (a ConnectionSet that
// sees RECLAIM_AFTER members leave) and counts the forced full GCs V8 reports meanwhile
// (perf_hooks 'gc' entries): 0 when the executable could not get a gc() in-process, since no profile
// runs node with --expose-gc. It waits for them up to 15 s (the reclaim runs 2 s after the last close).
import { getHeapStatistics } from 'node:v8';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { ConnectionSet, RECLAIM_AFTER } from '../../src/server/connections.js';
import type { Member } from '../../src/server/connections.js';

function report(reclaimGcs: number | null): void {
  const seen = {
    target: process.env.GRPC_EDGE_BUNDLE_TARGET ?? null,
    execArgv: process.execArgv,
    nodeOptions: process.env.NODE_OPTIONS ?? null,
    heapSizeLimit: getHeapStatistics().heap_size_limit,
    version: process.version,
    arch: process.arch,
    argv: process.argv.slice(2),
    reclaimGcs,
    globalGc: typeof (globalThis as { gc?: unknown }).gc,
  };
  console.log('EDGE-SEA ' + JSON.stringify(seen));
}

if (process.argv[2] === 'reclaim') {
  let forced = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const d = (e as unknown as { detail?: { kind: number; flags: number } }).detail;
      if (d && d.kind === constants.NODE_PERFORMANCE_GC_MAJOR && d.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) forced++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const set = new ConnectionSet(RECLAIM_AFTER);
  const left: Member = { idleSince: 0, evict() {}, shutdown() {}, destroy() {} };
  for (let i = 0; i < RECLAIM_AFTER; i++) set.delete(left);
  const until = Date.now() + 15_000;
  const poll = (): void => {
    if (forced === 0 && Date.now() < until) return void setTimeout(poll, 100);
    obs.disconnect();
    report(forced);
  };
  poll();
} else {
  report(null);
}
