// `npm run build -- --analyze` (scripts/bundle-analyze.mjs): where a bundle's bytes go. Its
// per-declaration table accounts for every byte of the Greeter bundle (declarations + what esbuild
// adds + line breaks = the file), and writing the map for it leaves the bundle's bytes as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fromRoot, ROOT } from '../support/paths.js';
import { getProfile } from '../../src/server/profile.js';

interface Built { file: string; raw: number; inputs: [string, number][] }
type BundleFn = (o: { profile: unknown; entry: string; outdir: string; sourcemap?: boolean | 'external' }) => Promise<Built>;
interface Analysis {
  bytes: number;
  modules: [string, number][];
  packages: [string, number][];
  decls: [string, string, number][];
  unmapped: number;
}
type AnalyzeFn = (o: { file: string; inputs: [string, number][]; root: string }) => Analysis;

test('the analysis of the Greeter bundle accounts for each of its bytes', async () => {
  const { bundle } = (await import(pathToFileURL(fromRoot('scripts/build.mjs')).href)) as { bundle: BundleFn };
  const { analyzeBundle } = (await import(pathToFileURL(fromRoot('scripts/bundle-analyze.mjs')).href)) as { analyzeBundle: AnalyzeFn };
  const tmp = mkdtempSync(join(tmpdir(), 'edge-analyze-'));
  try {
    const profile = getProfile('pi-zero-2w');
    const plain = await bundle({ profile, entry: 'examples/greeter/server.ts', outdir: join(tmp, 'plain') });
    const mapped = await bundle({ profile, entry: 'examples/greeter/server.ts', outdir: join(tmp, 'mapped'), sourcemap: 'external' });
    assert.equal(mapped.raw, plain.raw, 'an external map adds no byte to the bundle');
    const a = analyzeBundle({ file: mapped.file, inputs: mapped.inputs, root: ROOT });
    const lineBreaks = readFileSync(mapped.file, 'utf8').split('\n').length - 1;
    assert.equal(a.bytes, plain.raw);
    assert.equal(a.decls.reduce((s, d) => s + d[2], 0) + a.unmapped + lineBreaks, a.bytes, 'declarations + esbuild bytes + line breaks');
    assert.ok(a.unmapped < a.bytes / 50, `esbuild's own bytes ${a.unmapped}`);
    // Names as in the source, paths from the repository root, largest first.
    const bind = a.decls.find(([p, d]) => p === 'src/server/server.ts' && d === 'Server.bind');
    assert.ok(bind !== undefined && bind[2] > 200, `Server.bind: ${JSON.stringify(bind)}`);
    assert.ok(a.decls.every((d, i) => i === 0 || a.decls[i - 1]![2] >= d[2]));
    assert.deepEqual(a.packages.map(([k]) => k).slice(0, 2).sort(), ['protobufjs', 'src/http2']);
    assert.equal(a.modules.reduce((s, m) => s + m[1], 0), a.packages.reduce((s, p) => s + p[1], 0));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
