// Build-time proto compiler: .proto files -> a JSON descriptor plus a TypeScript module holding the
// same descriptor as a const object (so esbuild bundles it; no JSON file has to sit beside the
// bundle), types for the messages and for the service handlers, and `fileDescriptors`: each .proto
// file's serialized FileDescriptorProto and the names it defines, for server reflection
// (scripts/proto-descriptors.mjs; src/services/reflection.ts serves them). Bundles that do not use
// `fileDescriptors` leave it out.
//
// Uses the FULL protobufjs build (its .proto parser). Runtime code never does: it loads the
// descriptor with protobufjs/light via loadServices() in src/proto/.
//
//   node scripts/proto-gen.mjs <file.proto>... --out <dir> [-I <include dir>]... [--name <base>]
//        [--api-import <module>] [--descriptors-only] [--check]
//   node scripts/proto-gen.mjs [--check]        regenerate (or check) every output of this repo
//
// Writes <dir>/<base>.json and <dir>/<base>.ts, <base> being the first file's name without
// ".proto". Imports inside .proto files are looked up in the -I directories (default: protos/ at
// the repository root), then beside the importing file. --api-import names the module the handler
// types are imported from (default: this repository's src/index.js, as a relative path).
// --descriptors-only writes <dir>/<base>.ts with `fileDescriptors` alone (no .json, descriptor,
// service names or types), for a file whose messages another module already describes. --check
// writes nothing and exits 1 when a file on disk differs from what would be generated.
//
// Field names are kept as written in the .proto (keepCase), and the types describe messages as
// loadServices() hands them over: decoded with { longs: String, enums: String, bytes: Buffer,
// defaults: true, oneofs: true } (the options @grpc/proto-loader users usually pass). For each
// message two types are generated: `Foo` (what you may pass in: every field optional, enums as
// name or number, 64-bit integers as number or string, bytes as Uint8Array or base64) and
// `Foo__Output` (what you receive: scalars/repeated/maps always present, unset sub-messages null,
// members of a oneof optional).
import protobuf from 'protobufjs';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve, relative, basename, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProtoFiles, fileDescriptorEntries, sourceLabel } from './proto-descriptors.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What `npm run proto` regenerates when given no files (paths relative to the repo root). */
const REPO_OUTPUTS = [
  { files: ['protos/helloworld.proto'], out: 'examples/greeter/generated' },
  { files: ['protos/grpc/testing/test.proto'], out: 'examples/interop/generated' },
  { files: ['protos/grpc/health/v1/health.proto'], out: 'src/services/generated' },
  { files: ['protos/grpc/reflection/v1/reflection.proto'], out: 'src/services/generated', name: 'reflection-v1' },
  // No v1alpha module: its file is v1's with the package renamed, which src/services/reflection.ts
  // does at run time (test/proto/descriptors.test.ts compares the result with buf build's).
  // Test protos for reflection: imports, nested types, enums, a well-known type, proto2 extensions.
  { files: ['protos/edge/testing/sensors.proto', 'protos/edge/testing/annotations_more.proto', 'protos/edge/testing/reexport.proto'], out: 'test/services/generated', name: 'sensors' },
];

// ---------------------------------------------------------------------------------------------
// Loading

function loadRoot(files, includeDirs) {
  // alternateCommentMode: plain // comments count too (they become TS doc comments, never part of
  // the descriptor: toJSON() leaves comments out). Imports are looked up in the include dirs, then
  // beside the importing file; protobufjs's bundled well-known types come first, as in its loadSync.
  return loadProtoFiles(files.map((f) => resolve(f)), includeDirs, { keepCase: true, alternateCommentMode: true });
}

// ---------------------------------------------------------------------------------------------
// Naming

/** Collect every type, enum and service under the root, in declaration order. */
function collect(ns, out = { types: [], enums: [], services: [] }) {
  for (const obj of ns.nestedArray) {
    if (obj instanceof protobuf.Type) out.types.push(obj);
    else if (obj instanceof protobuf.Enum) out.enums.push(obj);
    else if (obj instanceof protobuf.Service) out.services.push(obj);
    if (obj instanceof protobuf.Namespace) collect(obj, out);
  }
  return out;
}

const fullName = (obj) => obj.fullName.replace(/^\./, '');

/** Name relative to its package: nested types joined with "_" (Outer.Inner -> Outer_Inner). */
function shortName(obj) {
  const parts = [];
  for (let o = obj; o && o.parent; o = o.parent) {
    parts.unshift(o.name);
    if (!(o.parent instanceof protobuf.Type)) break;
  }
  return parts.join('_');
}

function makeNamer(all) {
  const counts = new Map();
  for (const obj of all) counts.set(shortName(obj), (counts.get(shortName(obj)) ?? 0) + 1);
  const names = new Map();
  for (const obj of all) {
    const s = shortName(obj);
    names.set(obj, counts.get(s) === 1 ? s : fullName(obj).replace(/\./g, '_'));
  }
  return (obj) => names.get(obj);
}

// ---------------------------------------------------------------------------------------------
// Types

const INT32 = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'double', 'float']);
const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function scalarType(type, output) {
  if (INT32.has(type)) return 'number';
  if (INT64.has(type)) return output ? 'string' : 'number | string';
  if (type === 'bool') return 'boolean';
  if (type === 'string') return 'string';
  if (type === 'bytes') return output ? 'Buffer' : 'Uint8Array | string';
  throw new Error(`unknown scalar type ${type}`);
}

function valueType(field, output, nameOf) {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Enum) return output ? nameOf(rt) : `${nameOf(rt)} | number`;
  if (rt instanceof protobuf.Type) return output ? `${nameOf(rt)}__Output` : nameOf(rt);
  return scalarType(field.type, output);
}

/** A proto comment as a TS doc comment (one line when short), or nothing. */
function doc(comment, indent = '') {
  if (!comment) return [];
  const lines = comment.replace(/\*\//g, '*\\/').split('\n').map((l) => l.trimEnd());
  if (lines.length === 1) return [`${indent}/** ${lines[0]} */`];
  return [`${indent}/**`, ...lines.map((l) => (l ? `${indent} * ${l}` : `${indent} *`)), `${indent} */`];
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const prop = (name) => (IDENT.test(name) ? name : JSON.stringify(name));

function fieldLine(field, output, nameOf) {
  const v = valueType(field, output, nameOf);
  const isMessage = field.resolvedType instanceof protobuf.Type;
  let t;
  if (field.map) t = `Record<string, ${v}>`;
  else if (field.repeated) t = `${v.includes(' ') ? `(${v})` : v}[]`;
  else if (isMessage) t = `${v} | null`;
  else t = v;
  // Output: toObject's `defaults` fills every field except members of a oneof.
  const optional = !output || field.partOf != null;
  return [...doc(field.comment, '  '), `  ${prop(field.name)}${optional ? '?' : ''}: ${t};`];
}

function messageTypes(type, nameOf) {
  const name = nameOf(type);
  const lines = [];
  const fields = type.fieldsArray;
  for (const output of [false, true]) {
    const tsName = output ? `${name}__Output` : name;
    lines.push(...doc(`${fullName(type)}${output ? ' as received' : ''}${type.comment ? `: ${type.comment}` : ''}`));
    if (fields.length === 0 && type.oneofsArray.length === 0) {
      lines.push(`export type ${tsName} = Record<string, never>;`, '');
      continue;
    }
    lines.push(`export interface ${tsName} {`);
    for (const f of fields) lines.push(...fieldLine(f, output, nameOf));
    // oneofs: true adds a virtual property naming the member that is set.
    if (output) {
      for (const o of type.oneofsArray) {
        lines.push(`  ${prop(o.name)}?: ${o.oneof.map((n) => JSON.stringify(n)).join(' | ')};`);
      }
    }
    lines.push('}', '');
  }
  return lines;
}

function enumType(en, nameOf) {
  const names = Object.keys(en.values).map((n) => JSON.stringify(n));
  const comment = `${fullName(en)} (received as the value's name)${en.comment ? `: ${en.comment}` : ''}`;
  return [...doc(comment), `export type ${nameOf(en)} = ${names.join(' | ')};`, ''];
}

const HANDLER = {
  unary: 'UnaryHandler',
  server_streaming: 'ServerStreamingHandler',
  client_streaming: 'ClientStreamingHandler',
  bidi_streaming: 'BidiStreamingHandler',
};

function methodKind(m) {
  if (m.requestStream) return m.responseStream ? 'bidi_streaming' : 'client_streaming';
  return m.responseStream ? 'server_streaming' : 'unary';
}

// `<Service>Handlers` is a type alias, not an interface: an object type alias gets an implicit
// index signature, so a value of it is assignable to ServiceImplementation (Record<string, handler>)
// and goes straight into server.addService(); an interface would not be.
function serviceTypes(svc, nameOf, usedHandlers) {
  const lines = doc(`Handlers implementing ${fullName(svc)}: pass to server.addService().${svc.comment ? `\n${svc.comment}` : ''}`);
  lines.push(`export type ${nameOf(svc)}Handlers = {`);
  for (const m of svc.methodsArray) {
    const h = HANDLER[methodKind(m)];
    usedHandlers.add(h);
    lines.push(...doc(m.comment, '  '));
    lines.push(`  ${prop(m.name)}: ${h}<${nameOf(m.resolvedRequestType)}__Output, ${nameOf(m.resolvedResponseType)}>;`);
  }
  lines.push('};', '');
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Output

export function generate(files, { outDir, includeDirs = [join(ROOT, 'protos')], name, apiImport, descriptorsOnly = false } = {}) {
  const incs = includeDirs.map((d) => resolve(d));
  const { root, files: loaded } = loadRoot(files, incs);
  const base = name ?? basename(files[0]).replace(/\.proto$/, '');
  const sources = files.map((f) => sourceLabel(f, incs)).join(', ');
  const descriptors = fileDescriptorsModule(fileDescriptorEntries(root, loaded), sources);
  const head = (types, flag = '') => [
    `// Generated by scripts/proto-gen.mjs from ${sources}${flag}. Do not edit: run \`npm run proto\`.`,
    '/* eslint-disable */',
    `import type { ${[...types].sort().join(', ')} } from '${apiSpec(outDir, apiImport)}';`,
    '',
  ];
  if (descriptorsOnly) return { base, json: null, ts: [...head(['ProtoFileDescriptor'], ' (--descriptors-only)'), ...descriptors, ''].join('\n') };
  const json = JSON.stringify(root.toJSON(), null, 2) + '\n';

  const { types, enums, services } = collect(root);
  const nameOf = makeNamer([...types, ...enums, ...services]);
  const used = new Set();
  const body = [];
  for (const en of enums) body.push(...enumType(en, nameOf));
  for (const t of types) body.push(...messageTypes(t, nameOf));
  for (const s of services) body.push(...serviceTypes(s, nameOf, used));

  used.add('ProtoFileDescriptor');
  const names = services.map((s) => `  ${prop(nameOf(s))}: ${JSON.stringify(fullName(s))},`);
  const ts = [
    ...head(used),
    '/** The protobufjs JSON descriptor (root.toJSON()): pass it to loadServices(). */',
    `export const descriptor = ${json.trimEnd()};`,
    '',
    '/** Fully qualified names of the services, for loadServices(descriptor)[name]. */',
    `export const serviceNames = {${names.length ? '\n' + names.join('\n') + '\n' : ''}} as const;`,
    '',
    ...descriptors,
    '',
    ...body,
  ].join('\n');
  return { base, json, ts: ts.replace(/\n+$/, '\n') };
}

/** The module the generated types are imported from: `apiImport`, or this repository's src/index.js. */
function apiSpec(outDir, apiImport) {
  if (apiImport !== undefined) return apiImport;
  const spec = relative(resolve(outDir), join(ROOT, 'src', 'index.js')).split(sep).join('/');
  return spec.startsWith('.') ? spec : './' + spec;
}

/**
 * `fileDescriptors`: per .proto file (these and every file they import), its serialized
 * FileDescriptorProto in base64 and the names it defines, for server reflection. Bundles that do not
 * import it leave it out (esbuild drops unused exports).
 */
function fileDescriptorsModule(entries, sources) {
  const lines = [
    '/**',
    ` * Server reflection: the serialized google.protobuf.FileDescriptorProto (base64) of ${sources} and of`,
    ' * every file imported, with the names each file defines (relative to its package).',
    ' * Pass to addReflection() from src/services/reflection.ts; unused, it stays out of bundles.',
    ' */',
    'export const fileDescriptors: readonly ProtoFileDescriptor[] = [',
  ];
  const list = (a) => `[${a.map((x) => JSON.stringify(x)).join(', ')}]`;
  for (const e of entries) {
    const ext = Object.entries(e.extensions).map(([k, v]) => `${JSON.stringify(k)}: ${list(v)}`);
    lines.push(
      '  {',
      `    name: ${JSON.stringify(e.name)},`,
      `    package: ${JSON.stringify(e.package)},`,
      `    dependencies: ${list(e.dependencies)},`,
      `    messages: ${list(e.messages)},`,
      `    symbols: ${list(e.symbols)},`,
      `    extensions: {${ext.join(', ')}},`,
      `    descriptor: ${JSON.stringify(Buffer.from(e.descriptor).toString('base64'))},`,
      '  },',
    );
  }
  lines.push('];');
  return lines;
}

function writeOrCheck(files, opts, check) {
  const { base, json, ts } = generate(files, opts);
  const outputs = [
    ...(json === null ? [] : [[join(opts.outDir, base + '.json'), json]]),
    [join(opts.outDir, base + '.ts'), ts],
  ];
  let ok = true;
  for (const [path, text] of outputs) {
    const rel = relative(process.cwd(), path);
    if (check) {
      const same = existsSync(path) && readFileSync(path, 'utf8') === text;
      if (!same) {
        ok = false;
        console.error(`out of date: ${rel}`);
      }
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      console.log(`wrote ${rel}`);
    }
  }
  return ok;
}

function main(argv) {
  const files = [];
  const includeDirs = [];
  let outDir;
  let name;
  let apiImport;
  let descriptorsOnly = false;
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--out' || a === '-o') outDir = value();
    else if (a === '-I' || a === '--proto_path' || a === '--proto-path') includeDirs.push(value());
    else if (a === '--name') name = value();
    else if (a === '--api-import') apiImport = value();
    else if (a === '--descriptors-only') descriptorsOnly = true;
    else if (a === '--check') check = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/proto-gen.mjs <file.proto>... --out <dir> [-I <dir>]... [--name <base>] [--api-import <module>] [--descriptors-only] [--check]');
      return 0;
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else files.push(a);
  }
  if (includeDirs.length === 0) includeDirs.push(join(ROOT, 'protos'));
  let ok = true;
  if (files.length === 0) {
    for (const job of REPO_OUTPUTS) {
      const opts = { outDir: join(ROOT, job.out), includeDirs, name: name ?? job.name, apiImport, descriptorsOnly: descriptorsOnly || job.descriptorsOnly };
      ok = writeOrCheck(job.files.map((f) => join(ROOT, f)), opts, check) && ok;
    }
  } else {
    if (outDir === undefined) throw new Error('--out <dir> is required with input files');
    ok = writeOrCheck(files, { outDir, includeDirs, name, apiImport, descriptorsOnly }, check);
  }
  if (!ok) console.error('run `npm run proto` to regenerate');
  return ok ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`proto-gen: ${err instanceof Error ? err.message : err}`);
    process.exitCode = 2;
  }
}
