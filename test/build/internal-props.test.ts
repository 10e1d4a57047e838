// scripts/build/internal-props.json lists the property names esbuild shortens in bundles
// (mangleProps). A name may only be there while shortening it cannot change behaviour: the rules are
// in scripts/build/internal-props.cjs, recomputed here against the current tree, so a listed name that
// becomes public, an interface or object-literal key, or a protobufjs/Node name fails this test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fromRoot } from '../support/paths.js';
import { getProfile } from '../../src/server/profile.js';

const require = createRequire(import.meta.url);
const { allowedInternalProps } = require(fromRoot('scripts/build/internal-props.cjs')) as {
  allowedInternalProps: () => { names: string[]; why: Map<string, string> };
};
const listed = JSON.parse(readFileSync(fromRoot('scripts/build/internal-props.json'), 'utf8')) as string[];

test('every name esbuild may shorten still qualifies', () => {
  const { names, why } = allowedInternalProps();
  const ok = new Set(names);
  const stale = listed.filter((n) => !ok.has(n)).map((n) => `${n}: ${why.get(n) ?? 'no longer a class member in src/'}`);
  assert.deepEqual(stale, [], 'remove these from scripts/build/internal-props.json (or run node scripts/build/internal-props.cjs --write)');
});

test('names the rules must refuse are refused', () => {
  const { names, why } = allowedInternalProps();
  // A public option, a Node socket method, a protobufjs Writer field, an interface member of the
  // public HTTP/2 API, and a field the server's stats object hands out.
  for (const n of ['maxFrameSize', 'destroy', 'head', 'closed', 'completed']) {
    assert.ok(!names.includes(n), `${n} must not be shortened`);
    assert.ok(why.has(n) || !names.includes(n));
  }
  assert.ok(listed.length > 100, 'the list is the bulk of our internal names');
  assert.ok(listed.every((n) => /^[A-Za-z_$][\w$]{2,}$/.test(n)));
});

test("a bundled application's own names are never shortened, ours still are", async () => {
  // esbuild renames a listed name everywhere, object-literal keys included: an application message
  // using one as a field would reach protobufjs (which looks fields up by name) under a short name.
  // bundle() leaves out every word of the application's files.
  const { bundle } = (await import(pathToFileURL(fromRoot('scripts/build.mjs')).href)) as {
    bundle: (o: { profile: unknown; entry: string; outdir: string }) => Promise<{ file: string }>;
  };
  const dir = mkdtempSync(join(tmpdir(), 'edge-props-'));
  try {
    const entry = join(dir, 'app.ts');
    // Listed names, written only into the application's file (not here: this file's own words count).
    const names = listed.filter((_, i) => i % 40 === 0);
    const reply = Object.fromEntries(names.map((n, i) => [n, i]));
    writeFileSync(
      entry,
      `import { Server } from ${JSON.stringify(fromRoot('src/index.ts'))};\n` +
        `const reply = { ${names.map((n, i) => `${n}: ${i}`).join(', ')} };\n` +
        `console.log(JSON.stringify(reply), typeof Server);\n`,
    );
    const built = await bundle({ profile: getProfile('pi4b'), entry, outdir: join(dir, 'dist') });
    const out = execFileSync(process.execPath, [built.file], { encoding: 'utf8' });
    assert.equal(out.trim(), `${JSON.stringify(reply)} function`);
    const code = readFileSync(built.file, 'utf8');
    assert.ok(listed.includes('connRecvUnacked') && !code.includes('connRecvUnacked'), 'internal names are still shortened');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
