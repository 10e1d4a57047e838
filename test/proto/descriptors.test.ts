// The FileDescriptorProtos `npm run proto` makes for server reflection (scripts/proto-descriptors.mjs),
// checked against two independent protobuf implementations: buf's compiler (`buf build`, which
// describes files as protoc does) must make the same descriptors of the same .proto files, and
// Python's google.protobuf (Debian's python3-protobuf) must load ours into a DescriptorPool and
// make working message classes of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from '../support/paths.js';
import { PYTHON } from '../python/python.js';
import type { ProtoFileDescriptor } from '../../src/index.js';
import { fileDescriptors as greeter } from '../../examples/greeter/generated/helloworld.js';
import { fileDescriptors as interop } from '../../examples/interop/generated/test.js';
import { fileDescriptors as health } from '../../src/services/generated/health.js';
import { fileDescriptors as reflectionV1 } from '../../src/services/generated/reflection-v1.js';
// v1alpha's file is made from v1's at run time (src/services/reflection.ts): compared with buf's as the others.
import { reflectionV1alphaFiles as reflectionV1alpha } from '../../src/services/reflection.js';
import { fileDescriptors as sensors } from '../services/generated/sensors.js';

const probe = spawnSync(PYTHON, ['-c', 'import google.protobuf'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `python3-protobuf not available (${(probe.error?.message ?? probe.stderr).trim()})`;

const ALL: readonly (readonly ProtoFileDescriptor[])[] = [greeter, interop, health, reflectionV1, reflectionV1alpha, sensors];

interface CheckResult {
  compared: string[];
  differences: Record<string, string>;
  missing: string[];
  pool: string[];
  roundtrip: Record<string, unknown>;
}

test('descriptors equal buf build\'s, load into Python\'s DescriptorPool, and make working message classes', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-descriptors-'));
  try {
    const ours: Record<string, string> = {};
    for (const set of ALL) for (const f of set) ours[f.name] = f.descriptor;
    writeFileSync(join(dir, 'ours.json'), JSON.stringify(ours));
    const bufOut = join(dir, 'buf.binpb');
    const built = spawnSync(fromRoot('node_modules/.bin/buf'), ['build', fromRoot('protos'), '-o', bufOut], {
      encoding: 'utf8',
      env: { ...process.env, BUF_CACHE_DIR: join(dir, 'buf-cache') },
    });
    assert.equal(built.status, 0, `buf build failed: ${built.stderr}`);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(PYTHON, [fromRoot('test/python/descriptors_check.py'), join(dir, 'ours.json'), bufOut], (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const r = JSON.parse(out) as CheckResult;
    assert.deepEqual(r.missing, []);
    assert.ok(r.compared.length >= 12, `compared only ${r.compared.join(', ')}`);
    // protobufjs bundles its own copy of the well-known types (what proto-gen describes when no
    // include dir has them): same messages, without the file options (java_package...).
    const wkt = r.differences['google/protobuf/timestamp.proto'];
    delete r.differences['google/protobuf/timestamp.proto'];
    assert.deepEqual(r.differences, {}, Object.values(r.differences).join('\n\n'));
    if (wkt !== undefined) for (const line of wkt.split('\n').filter((l) => /^[+-] /.test(l))) assert.match(line, /^\+ /, wkt);
    assert.deepEqual(new Set(r.pool), new Set(Object.keys(ours)));
    assert.deepEqual(r.roundtrip, {
      equal: true,
      source: 'bus',
      has_note: true,
      map: { a: 2 },
      quality: 'GOOD',
      annotated_extensions: [100, 101, 150, 1000],
      required: ['id'],
      default_level: 3,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
