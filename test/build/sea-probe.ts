// The entry of the probe executable that test/build/sea.test.ts and `npm run test:qemu` build with
// `--sea`: it prints what the running program sees (its node flags, heap limit, the baked board) as
// one line and exits, so the tests can check that the profile's flags apply inside the executable.
import { getHeapStatistics } from 'node:v8';

const seen = {
  target: process.env.GRPC_EDGE_BUNDLE_TARGET ?? null,
  execArgv: process.execArgv,
  nodeOptions: process.env.NODE_OPTIONS ?? null,
  heapSizeLimit: getHeapStatistics().heap_size_limit,
  version: process.version,
  arch: process.arch,
  argv: process.argv.slice(2),
};
console.log('EDGE-SEA ' + JSON.stringify(seen));
