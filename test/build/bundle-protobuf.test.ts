// The parts of protobufjs/light that bundles leave out (scripts/build.mjs protobufStubs: file
// loading, RPC clients, Type.verify) throw one clear error as soon as they are called, in a bundle
// run alone; and the code that would lead there (Root#load, Root#loadSync, Service#create) is not
// in the bundle (they are the stub themselves).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fromRoot } from '../support/paths.js';
import { getProfile } from '../../src/server/profile.js';

type BundleFn = (o: { profile: unknown; entry: string; outdir: string }) => Promise<{ file: string }>;
const STUB_ERROR = 'not in this grpc-edge bundle: protobufjs file loading, RPC clients and Type.verify are left out';

test('protobufjs file loading, RPC clients and Type.verify throw the stub error in a bundle, and their code is not there', async () => {
  const { bundle } = (await import(pathToFileURL(fromRoot('scripts/build.mjs')).href)) as { bundle: BundleFn };
  const tmp = mkdtempSync(join(tmpdir(), 'edge-pb-'));
  try {
    const b = await bundle({ profile: getProfile('pi-zero-2w'), entry: 'test/build/protobuf-left-out.ts', outdir: join(tmp, 'dist') });
    const run = join(tmp, 'run');
    mkdirSync(run);
    copyFileSync(b.file, join(run, 'probe.js'));
    const out = execFileSync(process.execPath, [join(run, 'probe.js')], { cwd: run, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    const seen = JSON.parse(/EDGE-PB (\{.*\})/.exec(out)![1]!) as Record<string, string>;
    assert.deepEqual(Object.keys(seen), ['Root.load', 'Root.loadSync', 'protobuf.load', 'protobuf.loadSync', 'Service.create', 'Type.verify']);
    for (const [what, result] of Object.entries(seen)) assert.equal(result, STUB_ERROR, what);
    // Root#load's handling of the google/protobuf/ files it bundles, gone with it.
    const code = readFileSync(b.file, 'utf8');
    assert.ok(readFileSync(fromRoot('node_modules/protobufjs/src/root.js'), 'utf8').includes('"google/protobuf/"'));
    assert.ok(!code.includes('google/protobuf/'), 'Root#load is not in the bundle');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
