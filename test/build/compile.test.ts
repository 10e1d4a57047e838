// scripts/compile.mjs mirrors the sources in build/: run on a scratch project, an output whose
// source was deleted or renamed goes away (with the directories left empty), current outputs stay.
// build/src, build/test and build/examples are compile's alone: any other file there goes too.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fromRoot } from '../support/paths.js';

type CompileFn = (root: string) => Promise<{ compiled: number; removed: string[] }>;
const load = async (): Promise<CompileFn> =>
  ((await import(pathToFileURL(fromRoot('scripts/compile.mjs')).href)) as { compile: CompileFn }).compile;

const tmp = mkdtempSync(join(tmpdir(), 'edge-compile-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function put(rel: string, text: string): void {
  mkdirSync(dirname(join(tmp, rel)), { recursive: true });
  writeFileSync(join(tmp, rel), text);
}
const built = (rel: string): boolean => existsSync(join(tmp, 'build', rel));

test('compile removes outputs whose source is gone and keeps the rest', async () => {
  const compile = await load();
  put('src/a.ts', 'export const a: number = 1;\n');
  put('src/deep/b.ts', 'export const b = 2;\n');
  put('src/types.d.ts', 'export type T = number;\n');
  put('test/x.test.ts', "import { a } from '../src/a.js';\nexport const x = a;\n");
  put('test/old/y.test.ts', 'export const y = 3;\n');
  put('examples/e.ts', 'export const e = 4;\n');

  let r = await compile(tmp);
  assert.equal(r.compiled, 5);
  assert.deepEqual(r.removed, []);
  for (const f of ['src/a.js', 'src/deep/b.js', 'test/x.test.js', 'test/old/y.test.js', 'examples/e.js']) assert.ok(built(f), f);
  assert.ok(!built('src/types.d.js') && !built('src/types.js'));

  // Rename one test, delete a whole directory of tests, delete every example.
  renameSync(join(tmp, 'test/x.test.ts'), join(tmp, 'test/z.test.ts'));
  rmSync(join(tmp, 'test/old'), { recursive: true });
  rmSync(join(tmp, 'examples'), { recursive: true });
  put('build/src/stray.txt', 'left by hand\n');
  r = await compile(tmp);
  assert.deepEqual(r.removed.sort(), [
    'build/examples/',
    'build/examples/e.js',
    'build/src/stray.txt',
    'build/test/old/',
    'build/test/old/y.test.js',
    'build/test/x.test.js',
  ]);
  assert.ok(built('test/z.test.js') && built('src/a.js') && built('src/deep/b.js'));
  assert.ok(!built('test/x.test.js') && !built('test/old') && !built('examples'));
  assert.match(readFileSync(join(tmp, 'build/test/z.test.js'), 'utf8'), /from "..\/src\/a.js"/);

  // A second run with nothing changed removes nothing.
  r = await compile(tmp);
  assert.deepEqual(r.removed, []);
});
