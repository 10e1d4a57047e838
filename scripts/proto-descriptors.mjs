// Build-time half of server reflection: load .proto files with protobufjs's full build, keeping
// which file defines what and which files each one imports, and turn every file into a serialized
// google.protobuf.FileDescriptorProto, as protoc would describe it. scripts/proto-gen.mjs writes the
// result into the generated module (`fileDescriptors`), so that src/services/reflection.ts only
// hands out bytes made here: no .proto parser and no descriptor conversion run on the board.
//
// protobufjs's own Root#toDescriptor (ext/descriptor) is not enough for this: it makes one file per
// package rather than per .proto file, has no imports, names types relative to their scope, and
// writes extensions into the extended message as plain fields. Here each element is converted by
// hand, with ext/descriptor's google.protobuf types used only to encode the result:
//   - one FileDescriptorProto per .proto file, named by its import path ("grpc/testing/test.proto"),
//     with its imports (`dependency`, `public_dependency`, `weak_dependency`), package, syntax and
//     file options;
//   - messages with fields, nested messages and enums, map entries (`<Field>Entry`, map_entry set),
//     oneofs (proto3 `optional` ones last, as protoc orders them), extension and reserved ranges
//     (end exclusive), nested extensions;
//   - type names fully qualified (".pkg.Msg"), proto2 defaults and labels, proto3_optional, json_name
//     where the .proto sets one (protoc also writes the derived ones, which readers derive alike);
//   - enums with values, aliases and reserved ranges (end inclusive, as descriptor.proto says);
//   - services with methods and their streaming flags;
//   - the options descriptor.proto knows (deprecated, packed, java_package...); custom options
//     ("(my.option)") are left out.
// The well-known types protobufjs bundles (google/protobuf/timestamp.proto...) are described from
// protobufjs's copy when no include directory has them, as protobufjs itself loads them.
// protobufjs reads `import public` as a plain import: public ones are found in the source text.
// Not carried: editions features, source code info (comments).
import protobuf from 'protobufjs';
import descriptorTypes from 'protobufjs/ext/descriptor/index.js';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve, relative, basename, sep, isAbsolute } from 'node:path';
import { transformSync } from 'esbuild';

const { Type, Enum, Service, Field, MapField, Namespace } = protobuf;

// protoc's ToJsonName, the function src/web uses at run time: this script runs before any compile,
// so it transpiles that file (which imports nothing) itself.
const jsonNameTs = readFileSync(new URL('../src/proto/json-name.ts', import.meta.url), 'utf8');
const { jsonName } = await import('data:text/javascript,' + encodeURIComponent(transformSync(jsonNameTs, { loader: 'ts', format: 'esm' }).code));

// ---------------------------------------------------------------------------------------------
// Loading

/** The file's path relative to the include dir holding it (stable whatever the cwd). */
export function sourceLabel(file, includeDirs) {
  const abs = resolve(file);
  for (const dir of includeDirs) {
    const rel = relative(dir, abs);
    if (!rel.startsWith('..') && !isAbsolute(rel)) return rel.split(sep).join('/');
  }
  return basename(abs);
}

function stripComments(source) {
  return source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
}

function syntaxOf(source) {
  const text = stripComments(source);
  const edition = /\bedition\s*=\s*["']([^"']+)["']/.exec(text);
  if (edition) return edition[1];
  const syntax = /\bsyntax\s*=\s*["'](proto[23])["']/.exec(text);
  return syntax ? syntax[1] : 'proto2';
}

/** Every object under `ns` (recursively through plain namespaces, i.e. packages). */
function* packageMembers(ns) {
  for (const obj of ns.nestedArray) {
    if (obj instanceof Type || obj instanceof Enum || obj instanceof Service || obj instanceof Field) yield obj;
    else if (obj instanceof Namespace) yield* packageMembers(obj);
  }
}

/**
 * Load `files` (and what they import) into one protobufjs Root, in the order protobufjs's own
 * loadSync does (so the JSON descriptor is the same). Returns the root and, per file in load order,
 * { name, package, syntax, dependencies, weakDependencies, publicDependencies }. Objects defined at
 * a file's top level carry `filename` = that file's name.
 */
export function loadProtoFiles(files, includeDirs, parseOptions) {
  const root = new protobuf.Root();
  const loaded = new Map();
  const findImport = (origin, target) => {
    for (const dir of includeDirs) {
      const p = join(dir, target);
      if (existsSync(p)) return p;
    }
    const beside = join(dirname(origin), target);
    if (existsSync(beside)) return beside;
    throw new Error(`${sourceLabel(origin, includeDirs)}: import "${target}" not found in ${includeDirs.join(', ')}`);
  };
  const load = (name, path) => {
    if (loaded.has(name)) return;
    const info = { name, package: '', syntax: 'proto3', dependencies: [], weakDependencies: [], publicDependencies: [] };
    loaded.set(name, info);
    const bundled = protobuf.common.get(name);
    if (bundled !== null && bundled !== undefined) {
      // protobufjs prefers its bundled copy of these well-known types, whatever the include path.
      root.addJSON(bundled.nested);
      info.package = 'google.protobuf';
      for (const obj of packageMembers(root)) if (obj.filename == null && obj.fullName.startsWith('.google.protobuf.')) obj.filename = name;
      return;
    }
    const source = readFileSync(path, 'utf8');
    info.syntax = syntaxOf(source);
    for (const m of stripComments(source).matchAll(/\bimport\s+public\s+["']([^"']+)["']/g)) info.publicDependencies.push(m[1]);
    protobuf.parse.filename = name;
    const parsed = protobuf.parse(source, root, parseOptions);
    info.package = parsed.package ?? '';
    for (const [list, imports] of [[info.dependencies, parsed.imports], [info.weakDependencies, parsed.weakImports]]) {
      for (const target of imports ?? []) {
        list.push(target);
        load(target, protobuf.common.get(target) ? null : findImport(path, target));
      }
    }
  };
  for (const f of files) load(sourceLabel(f, includeDirs), resolve(f));
  root.resolveAll();
  return { root, files: [...loaded.values()] };
}

// ---------------------------------------------------------------------------------------------
// Conversion to google.protobuf descriptor messages (plain objects, encoded at the end)

const SCALAR_TYPES = {
  double: 1, float: 2, int64: 3, uint64: 4, int32: 5, fixed64: 6, fixed32: 7, bool: 8, string: 9,
  bytes: 12, uint32: 13, sfixed32: 15, sfixed64: 16, sint32: 17, sint64: 18,
};
const TYPE_GROUP = 10;
const TYPE_MESSAGE = 11;
const TYPE_ENUM = 14;
const LABEL_OPTIONAL = 1;
const LABEL_REQUIRED = 2;
const LABEL_REPEATED = 3;


/** protoc's name for a map field's entry message: "channel_units" -> "ChannelUnitsEntry". */
function mapEntryName(fieldName) {
  const j = jsonName(fieldName);
  return j.charAt(0).toUpperCase() + j.slice(1) + 'Entry';
}

/**
 * The options of `obj` that descriptor.proto's `optionsType` declares, keyed as its fields are;
 * protobufjs keeps them as written in the .proto (snake_case). Custom options are left out.
 */
function knownOptions(options, optionsType, skip = []) {
  if (!options) return undefined;
  const out = {};
  let any = false;
  for (const [key, value] of Object.entries(options)) {
    if (skip.includes(key) || key.startsWith('(')) continue;
    const field = optionsType.fields[jsonName(key)];
    if (field === undefined || field.name === 'features' || field.name === 'uninterpretedOption') continue;
    out[field.name] = value;
    any = true;
  }
  return any ? out : undefined;
}

const qualified = (obj) => obj.fullName; // protobufjs full names start with "."

function fieldType(field) {
  const rt = field.resolvedType;
  if (rt instanceof Enum) return { type: TYPE_ENUM, typeName: qualified(rt) };
  if (rt instanceof Type) return { type: field.delimited || rt.group ? TYPE_GROUP : TYPE_MESSAGE, typeName: qualified(rt) };
  const t = SCALAR_TYPES[field.type];
  if (t === undefined) throw new Error(`${field.fullName}: unknown field type ${field.type}`);
  return { type: t };
}

function defaultValue(field, value) {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (value === Infinity) return 'inf';
    if (value === -Infinity) return '-inf';
    if (Number.isNaN(value)) return 'nan';
  }
  return String(value);
}

function fieldDescriptor(field, oneofIndex, syntax) {
  field.resolve();
  const d = { name: field.name, number: field.id };
  // json_name only when the .proto sets one: protoc writes the derived name on every field, but
  // descriptor readers derive the same name when it is absent, and bundles are smaller without.
  if (field.options?.json_name !== undefined) d.jsonName = field.options.json_name;
  if (field.map) {
    d.label = LABEL_REPEATED;
    d.type = TYPE_MESSAGE;
    d.typeName = `${qualified(field.parent)}.${mapEntryName(field.name)}`;
  } else {
    Object.assign(d, fieldType(field));
    d.label = field.repeated ? LABEL_REPEATED : field.required && syntax === 'proto2' ? LABEL_REQUIRED : LABEL_OPTIONAL;
  }
  if (field.extend !== undefined) {
    // A declared extension: its twin inside the extended message knows which message that is.
    d.extendee = qualified(field.extensionField?.parent ?? field.parent.lookupType(field.extend));
  }
  if (field.partOf && oneofIndex.has(field.partOf)) d.oneofIndex = oneofIndex.get(field.partOf);
  const opts = field.options;
  if (opts?.default !== undefined) d.defaultValue = defaultValue(field, opts.default);
  if (opts?.proto3_optional) d.proto3Optional = true;
  const o = knownOptions(opts, descriptorTypes.FieldOptions, ['default', 'json_name', 'proto3_optional']);
  if (o) d.options = o;
  return d;
}

const isSynthetic = (oneof) => oneof.fieldsArray.length === 1 && oneof.fieldsArray[0].options?.proto3_optional === true;

/** Ranges as descriptor.proto stores them: protobufjs keeps both ends inclusive. */
function ranges(list, endExclusive) {
  return (list ?? []).filter((r) => typeof r !== 'string').map(([start, end]) => ({ start, end: endExclusive ? end + 1 : end }));
}
const reservedNames = (list) => (list ?? []).filter((r) => typeof r === 'string');

function messageDescriptor(type, syntax) {
  // protoc puts proto3 `optional` fields' synthetic oneofs after every real one.
  const oneofs = [...type.oneofsArray.filter((o) => !isSynthetic(o)), ...type.oneofsArray.filter(isSynthetic)];
  const oneofIndex = new Map(oneofs.map((o, i) => [o, i]));
  const d = {
    name: type.name,
    // Extensions of this message declared elsewhere sit among its fields as twins: not its fields.
    field: type.fieldsArray.filter((f) => !f.declaringField).map((f) => fieldDescriptor(f, oneofIndex, syntax)),
    nestedType: [],
    enumType: [],
    extension: [],
    oneofDecl: oneofs.map((o) => ({ name: o.name })),
    extensionRange: ranges(type.extensions, true),
    reservedRange: ranges(type.reserved, true),
    reservedName: reservedNames(type.reserved),
  };
  for (const obj of type.nestedArray) {
    if (obj instanceof Type) d.nestedType.push(messageDescriptor(obj, syntax));
    else if (obj instanceof Enum) d.enumType.push(enumDescriptor(obj));
    else if (obj instanceof Field) d.extension.push(fieldDescriptor(obj, oneofIndex, syntax));
  }
  for (const f of type.fieldsArray) {
    if (!(f instanceof MapField)) continue;
    const key = { name: 'key', number: 1, label: LABEL_OPTIONAL, type: SCALAR_TYPES[f.keyType] };
    const value = { name: 'value', number: 2, label: LABEL_OPTIONAL, ...fieldType(f) };
    d.nestedType.push({ name: mapEntryName(f.name), field: [key, value], options: { mapEntry: true } });
  }
  const o = knownOptions(type.options, descriptorTypes.MessageOptions);
  if (o) d.options = o;
  return d;
}

function enumDescriptor(en) {
  const d = {
    name: en.name,
    value: Object.entries(en.values).map(([name, number]) => {
      const v = { name, number };
      const o = knownOptions(en.valuesOptions?.[name], descriptorTypes.EnumValueOptions);
      if (o) v.options = o;
      return v;
    }),
    reservedRange: ranges(en.reserved, false),
    reservedName: reservedNames(en.reserved),
  };
  const o = knownOptions(en.options, descriptorTypes.EnumOptions);
  if (o) d.options = o;
  return d;
}

function serviceDescriptor(svc) {
  const d = {
    name: svc.name,
    method: svc.methodsArray.map((m) => {
      m.resolve();
      const md = { name: m.name, inputType: qualified(m.resolvedRequestType), outputType: qualified(m.resolvedResponseType) };
      if (m.requestStream) md.clientStreaming = true;
      if (m.responseStream) md.serverStreaming = true;
      const o = knownOptions(m.options, descriptorTypes.MethodOptions);
      if (o) md.options = o;
      return md;
    }),
  };
  const o = knownOptions(svc.options, descriptorTypes.ServiceOptions);
  if (o) d.options = o;
  return d;
}

// ---------------------------------------------------------------------------------------------
// The names each file defines, for the reflection service's look-ups

/**
 * Names relative to the file's package: `messages` (message types, nested ones too) and `symbols`
 * (services, methods, enums, enum values, declared extensions; not plain fields, which reflection
 * clients do not look up and which would make every bundle carrying them larger). An enum value is named as
 * protobuf scopes it, beside its enum ("pkg.Msg.VALUE"), and also under its enum
 * ("pkg.Msg.Enum.VALUE"), the name some clients ask for.
 */
function collectNames(topLevel, pkgPrefix) {
  const messages = [];
  const symbols = [];
  const rel = (obj) => obj.fullName.slice(pkgPrefix.length);
  const walk = (obj) => {
    if (obj instanceof Type) {
      messages.push(rel(obj));
      for (const n of obj.nestedArray) walk(n);
    } else if (obj instanceof Enum) {
      symbols.push(rel(obj));
      const scope = obj.parent.fullName.length > pkgPrefix.length ? rel(obj.parent) + '.' : '';
      for (const v of Object.keys(obj.values)) symbols.push(scope + v, `${rel(obj)}.${v}`);
    } else if (obj instanceof Service) {
      symbols.push(rel(obj));
      for (const m of obj.methodsArray) symbols.push(rel(m));
    } else if (obj instanceof Field) {
      symbols.push(rel(obj));
    }
  };
  for (const obj of topLevel) walk(obj);
  return { messages, symbols: [...new Set(symbols)] };
}

/** Extension numbers declared in these objects, by extended message (fully qualified, no dot). */
function collectExtensions(topLevel) {
  const out = {};
  const walk = (obj) => {
    if (obj instanceof Field && obj.extend !== undefined) {
      const extendee = (obj.extensionField?.parent ?? obj.parent.lookupType(obj.extend)).fullName.slice(1);
      (out[extendee] ??= []).push(obj.id);
    } else if (obj instanceof Type) {
      for (const n of obj.nestedArray) walk(n);
    }
  };
  for (const obj of topLevel) walk(obj);
  for (const list of Object.values(out)) list.sort((a, b) => a - b);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Output

/**
 * One entry per loaded file, in load order: { name, package, dependencies, messages, symbols,
 * extensions, descriptor (the serialized FileDescriptorProto, a Uint8Array) }.
 */
export function fileDescriptorEntries(root, files) {
  const byFile = new Map(files.map((f) => [f.name, []]));
  for (const obj of packageMembers(root)) byFile.get(obj.filename)?.push(obj);
  return files.map((file) => {
    const topLevel = byFile.get(file.name);
    const fd = {
      name: file.name,
      dependency: [...file.dependencies, ...file.weakDependencies],
      publicDependency: file.publicDependencies.map((d) => file.dependencies.indexOf(d)).filter((i) => i >= 0),
      weakDependency: file.weakDependencies.map((_, i) => file.dependencies.length + i),
      messageType: [],
      enumType: [],
      service: [],
      extension: [],
    };
    if (file.package) fd.package = file.package;
    if (file.syntax === 'proto3') fd.syntax = 'proto3';
    else if (file.syntax !== 'proto2') {
      fd.syntax = 'editions';
      fd.edition = `EDITION_${file.syntax}`;
    }
    const noOneofs = new Map();
    for (const obj of topLevel) {
      if (obj instanceof Type) fd.messageType.push(messageDescriptor(obj, file.syntax));
      else if (obj instanceof Enum) fd.enumType.push(enumDescriptor(obj));
      else if (obj instanceof Service) fd.service.push(serviceDescriptor(obj));
      else if (obj instanceof Field) fd.extension.push(fieldDescriptor(obj, noOneofs, file.syntax));
    }
    // File options live on the package's namespace in protobufjs (shared by the package's files).
    const pkgNs = file.package ? root.lookup(file.package) : root;
    const o = knownOptions(pkgNs?.options, descriptorTypes.FileOptions);
    if (o) fd.options = o;
    const T = descriptorTypes.FileDescriptorProto;
    const message = T.fromObject(fd);
    const problem = T.verify(message);
    if (problem) throw new Error(`${file.name}: FileDescriptorProto: ${problem}`);
    const descriptor = T.encode(message).finish();
    const pkgPrefix = file.package ? `.${file.package}.` : '.';
    return {
      name: file.name,
      package: file.package,
      dependencies: fd.dependency,
      ...collectNames(topLevel, pkgPrefix),
      extensions: collectExtensions(topLevel),
      descriptor,
    };
  });
}
