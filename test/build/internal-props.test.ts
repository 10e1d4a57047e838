// scripts/build/internal-props.json lists the property names esbuild shortens in bundles
// (mangleProps). A name may only be there while shortening it cannot change behaviour: the rules are
// in scripts/build/internal-props.cjs, recomputed here against the current tree, so a listed name that
// becomes public, an interface or object-literal key, or a protobufjs/Node name fails this test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fromRoot } from '../support/paths.js';

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
