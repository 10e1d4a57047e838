import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { fromRoot, ROOT } from '../support/paths.js';

const GEN = fromRoot('scripts/proto-gen.mjs');

test('committed generated files are what the generator produces (npm run proto -- --check)', () => {
  const r = spawnSync(process.execPath, [GEN, '--check'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('generator: JSON and TS outputs for a proto with imports, nested types, oneofs, maps, streams', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proto-gen-'));
  try {
    mkdirSync(join(dir, 'inc', 'dep'), { recursive: true });
    writeFileSync(
      join(dir, 'inc', 'dep', 'common.proto'),
      'syntax = "proto3";\npackage dep;\nmessage Shared { fixed64 stamp = 1; bytes raw = 2; }\n',
    );
    writeFileSync(
      join(dir, 'svc.proto'),
      [
        'syntax = "proto3";',
        'package my.pkg;',
        'import "dep/common.proto";',
        'message Outer {',
        '  enum Color { RED = 0; GREEN = 1; }',
        '  message Inner { Color color = 1; }',
        '  repeated Inner inners = 1;',
        '  map<string, dep.Shared> by_name = 2;',
        '  oneof pick { string a_text = 3; Inner an_inner = 4; }',
        '  dep.Shared shared = 5;',
        '}',
        'service Svc {',
        '  rpc Un(Outer) returns (dep.Shared);',
        '  rpc Down(Outer) returns (stream Outer);',
        '  rpc Up(stream Outer) returns (Outer);',
        '  rpc Both(stream Outer) returns (stream dep.Shared);',
        '}',
      ].join('\n'),
    );
    const out = join(dir, 'out');
    execFileSync(process.execPath, [GEN, join(dir, 'svc.proto'), '--out', out, '-I', join(dir, 'inc'), '--api-import', 'grpc-edge'], {
      encoding: 'utf8',
    });
    const json = JSON.parse(readFileSync(join(out, 'svc.json'), 'utf8'));
    assert.deepEqual(json.nested.my.nested.pkg.nested.Svc.methods.Up, {
      requestType: 'Outer',
      requestStream: true,
      responseType: 'Outer',
    });
    assert.deepEqual(json.nested.dep.nested.Shared.fields.stamp, { type: 'fixed64', id: 1 });
    const ts = readFileSync(join(out, 'svc.ts'), 'utf8');
    const expectLines = [
      "import type { BidiStreamingHandler, ClientStreamingHandler, ProtoFileDescriptor, ServerStreamingHandler, UnaryHandler } from 'grpc-edge';",
      'export const fileDescriptors: readonly ProtoFileDescriptor[] = [',
      '    name: "svc.proto",',
      '    dependencies: ["dep/common.proto"],',
      '    messages: ["Outer", "Outer.Inner"],',
      '    symbols: ["Outer.Color", "Outer.RED", "Outer.Color.RED", "Outer.GREEN", "Outer.Color.GREEN", "Svc", "Svc.Un", "Svc.Down", "Svc.Up", "Svc.Both"],',
      '    name: "dep/common.proto",',
      'export type Outer_Color = "RED" | "GREEN";',
      'export interface Outer_Inner__Output {',
      '  color: Outer_Color;',
      '  color?: Outer_Color | number;',
      '  inners: Outer_Inner__Output[];',
      '  by_name: Record<string, Shared__Output>;',
      '  a_text?: string;',
      '  an_inner?: Outer_Inner__Output | null;',
      '  pick?: "a_text" | "an_inner";',
      '  shared: Shared__Output | null;',
      '  stamp: string;',
      '  stamp?: number | string;',
      '  raw: Buffer;',
      '  raw?: Uint8Array | string;',
      'export type SvcHandlers = {',
      '  Un: UnaryHandler<Outer__Output, Shared>;',
      '  Down: ServerStreamingHandler<Outer__Output, Outer>;',
      '  Up: ClientStreamingHandler<Outer__Output, Outer>;',
      '  Both: BidiStreamingHandler<Outer__Output, Shared>;',
      '  Svc: "my.pkg.Svc",',
    ];
    const lines = new Set(ts.split('\n'));
    for (const l of expectLines) assert.ok(lines.has(l), `missing line: ${l}`);
    // The TS module carries the same descriptor as the JSON file.
    const m = /export const descriptor = ([\s\S]*?);\n\n/.exec(ts);
    assert.ok(m);
    assert.deepEqual(JSON.parse(m[1]!), json);
    // --check on the fresh output passes; after an edit it fails.
    const again = [GEN, join(dir, 'svc.proto'), '--out', out, '-I', join(dir, 'inc'), '--api-import', 'grpc-edge', '--check'];
    assert.equal(spawnSync(process.execPath, again).status, 0);
    writeFileSync(join(out, 'svc.ts'), ts + '// edited\n');
    assert.equal(spawnSync(process.execPath, again).status, 1);
    // --descriptors-only: the same fileDescriptors, and nothing else (no .json, descriptor or types).
    const only = join(dir, 'only');
    execFileSync(process.execPath, [GEN, join(dir, 'svc.proto'), '--out', only, '-I', join(dir, 'inc'), '--api-import', 'grpc-edge', '--descriptors-only']);
    assert.deepEqual(readdirSync(only), ['svc.ts']);
    const onlyTs = readFileSync(join(only, 'svc.ts'), 'utf8');
    const descriptorsOf = (text: string): string => /\nexport const fileDescriptors[\s\S]*?\n\];\n/.exec(text)?.[0] ?? 'none';
    assert.equal(descriptorsOf(onlyTs), descriptorsOf(ts));
    assert.match(onlyTs, /^import type \{ ProtoFileDescriptor \} from 'grpc-edge';$/m);
    assert.doesNotMatch(onlyTs, /export (const descriptor|const serviceNames|interface|type) /);
    // A syntax error is reported, not a stack trace, with a non-zero exit.
    writeFileSync(join(dir, 'bad.proto'), 'syntax = "proto3"; message {');
    const bad = spawnSync(process.execPath, [GEN, join(dir, 'bad.proto'), '--out', out], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^proto-gen: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bundled with esbuild: the light build resolves, the .proto parser stays out, codecs work', async () => {
  const entry = [
    `import { loadServices } from ${JSON.stringify(fromRoot('src/proto/load.ts'))};`,
    `import { descriptor } from ${JSON.stringify(fromRoot('examples/greeter/generated/helloworld.ts'))};`,
    `const m = loadServices(descriptor)['helloworld.Greeter'].methods.SayHello;`,
    `console.log(JSON.stringify(m.request.decode(m.request.encode({ name: 'bundle' }))));`,
  ].join('\n');
  for (const format of ['cjs', 'esm'] as const) {
    const result = await build({
      stdin: { contents: entry, resolveDir: ROOT, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format,
      target: 'node18',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.text;
    assert.ok(!code.includes('illegal " + subject'), 'the tokenizer (full build) was bundled');
    assert.ok(!/\.proto["'`]/.test(code), 'descriptor should be inlined, no .proto file loading');
    const dir = mkdtempSync(join(tmpdir(), 'proto-bundle-'));
    try {
      const file = join(dir, format === 'cjs' ? 'b.cjs' : 'b.mjs');
      writeFileSync(file, code);
      const out = execFileSync(process.execPath, [file], { encoding: 'utf8', cwd: dir });
      assert.equal(out.trim(), '{"name":"bundle"}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
