// The proto3 JSON mapping (protobuf.dev "ProtoJSON Format") through protobufjs's reflection: a
// MessageCodec whose bytes are JSON, so that the call engine runs a Connect JSON call exactly as a
// binary one (same handler input shape, same limits on the message size, which counts JSON octets).
//
// Parsing: field names as JSON names (json_name, lowerCamelCase) or as written in the .proto; 64-bit integers
// as decimal strings or numbers; bytes as standard or URL-safe base64, padded or not; enums by
// name or number; null means the default. Anything else is INVALID_ARGUMENT: an unknown field, a
// value of the wrong JSON type, an unknown enum name, a number out of its type's range, a name
// written twice in one JSON object (JSON.parse would keep the last), a field given by both its
// names, two members of one oneof, null as an element of a list or a map.
// Printing: lowerCamelCase names (or the field's json_name), 64-bit integers as strings, bytes as base64, enums by name,
// fields without presence at their default left out.
//
// The well-known types with a JSON form of their own (FORMS below; wkt.ts has the string forms of
// Timestamp, Duration and FieldMask), both ways:
//   Timestamp   "2026-12-02T03:00:00.250Z" (printed in UTC with 0, 3, 6 or 9 fractional digits;
//               offsets accepted), 0001-01-01 to 9999-12-31
//   Duration    "-1.5s" (0, 3, 6 or 9 fractional digits), up to +-315,576,000,000 s
//   wrappers    DoubleValue ... BytesValue as their bare value (Int64Value, UInt64Value as strings);
//               {"@type": ".../google.protobuf.Int32Value", "value": null} is an Int32Value of 0
//   Struct, Value, ListValue, NullValue   plain JSON (object, any value, array, null)
//   FieldMask   "fooBar,baz.quxQuux" (the paths in lowerCamelCase, comma-joined)
//   Empty       {} (an ordinary message)
//   Any         {"@type": "type.googleapis.com/pkg.Msg", ...Msg's fields}, or
//               {"@type": ".../google.protobuf.Duration", "value": "1s"} for a type above; the
//               type is looked up among the service's loaded descriptors (unknown: INVALID_ARGUMENT)
// The handler sees them as a binary call's handler does ({ seconds: "1", nanos: 0 }, an Any's
// type_url and value bytes...). A response that has no JSON form (a Timestamp out of range, an
// Any of a type not loaded) fails the call with INTERNAL, as protobuf-es's toJson throws.
import type protobuf from 'protobufjs/light.js';
import type { MessageCodec } from '../grpc/method.js';
import { GrpcError } from '../grpc/status.js';
import { DECODE_OPTIONS } from '../proto/load.js';
import { jsonName } from '../proto/json-name.js';
import { invalid, noJson, durationFromJson, durationToJson, fieldMaskFromJson, fieldMaskToJson, timestampFromJson, timestampToJson } from './wkt.js';
import type { Obj } from './wkt.js';

export { jsonName } from '../proto/json-name.js';

type PbType = protobuf.Type;
type PbField = protobuf.Field;
type PbEnum = protobuf.Enum;

// Told apart by shape, not instanceof: a value import of protobufjs here would leave its module
// wrapper in every bundle that imports grpc-edge, web protocols or not.
const isType = (t: unknown): t is PbType => t !== null && typeof t === 'object' && 'fieldsArray' in t;
const isEnum = (t: unknown): t is PbEnum => t !== null && typeof t === 'object' && 'valuesById' in t;

// No `json: true`: it would unpack an Any by protobufjs's own lookup and print non-finite floats;
// both are done here (fieldToJson, anyToJson). `defaults`: a wrapper's or a Timestamp's zero fields
// are there to print (messageToJson leaves out the defaults of fields without presence).
const PRINT_OPTIONS: protobuf.IConversionOptions = { longs: String, enums: String, bytes: String, defaults: true };

/** A field's JSON name: its json_name option, else protoc's lowerCamelCase of its name. */
const keyOf = (f: PbField): string => (f.options?.json_name as string | undefined) ?? jsonName(f.name);

// Per type: JSON name and .proto name (and the lowerCamelCase one) -> field.
const fieldsByName = new WeakMap<PbType, Map<string, PbField>>();
function fieldsOf(type: PbType): Map<string, PbField> {
  let m = fieldsByName.get(type);
  if (m === undefined) {
    m = new Map();
    for (const f of type.fieldsArray) {
      f.resolve();
      m.set(f.name, f);
      m.set(jsonName(f.name), f);
      m.set(keyOf(f), f);
    }
    fieldsByName.set(type, m);
  }
  return m;
}

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A well-known type's own JSON form: JSON value -> plain object, and back. */
type Form = [(v: unknown, at: string, type: PbType) => Obj, (o: Obj, type: PbType) => unknown];
// Wrappers (DoubleValue ... BytesValue): the bare value of their one field; null is that field's
// default, as for any field (read here only where a wrapper is not a field: an Any's "value", a whole
// request; a wrapper field given null is left unset, and lists and maps refuse null elements).
const WRAPPER: Form = [(v, at, type) => (v === null ? {} : { value: fieldFromJson(fieldsOf(type).get('value')!, v, at) }), (o, type) => fieldToJson(fieldsOf(type).get('value')!, o.value)];
const FORMS: Record<string, Form> = {
  Any: [anyFromJson, anyToJson],
  Timestamp: [timestampFromJson, timestampToJson],
  Duration: [durationFromJson, durationToJson],
  FieldMask: [fieldMaskFromJson, fieldMaskToJson],
  // Struct, ListValue: the JSON of their one field (a map, a list of Values); Value: of its one
  // member that is set (JSON names: google.protobuf.Value's fields are null_value... in a
  // struct.proto parsed with keepCase, nullValue... in protobufjs's copy; both read as nullValue).
  Struct: [(v, at, type) => fieldsFromJson(type, { fields: v }, at), (o, type) => (fieldsToJson(type, o).fields ?? {}) as Obj],
  ListValue: [(v, at, type) => fieldsFromJson(type, { values: v }, at), (o, type) => fieldsToJson(type, o).values ?? []],
  Value: [
    (v, at, type) => {
      const kind = v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v === 'object' ? 'struct' : typeof v === 'boolean' ? 'bool' : typeof v;
      return fieldsFromJson(type, { [`${kind}Value`]: v }, at);
    },
    (o, type) => {
      const [kind, json] = Object.entries(fieldsToJson(type, o))[0] ?? [];
      // A number that is not finite has no JSON number (printed "NaN" otherwise).
      if (kind === undefined || (kind === 'numberValue' && typeof json === 'string')) throw noJson(kind === undefined ? 'a Value with no kind set' : `Value ${json}`);
      return json;
    },
  ],
};
const forms = new WeakMap<PbType, Form | null>();
/** The JSON form of `type` if it is a well-known type with one of its own (Empty is an ordinary message). */
function formOf(type: PbType): Form | undefined {
  let form = forms.get(type);
  if (form === undefined) {
    const name = /^\.google\.protobuf\.(\w+)$/.exec(type.fullName)?.[1] ?? '';
    form = Object.hasOwn(FORMS, name) ? FORMS[name]! : /^(Double|Float|U?Int32|U?Int64|Bool|String|Bytes)Value$/.test(name) ? WRAPPER : null;
    forms.set(type, form);
  }
  return form ?? undefined;
}

/** Takes JSON null as a value: google.protobuf.Value (a null Value) and the NullValue enum. */
const takesNull = (t: PbField['resolvedType']): boolean => /^\.google\.protobuf\.(Null)?Value$/.test(t?.fullName ?? '');

/** The message type an Any's type URL names ("type.googleapis.com/pkg.Msg"), among `from`'s loaded types. */
function anyType(from: PbType, url: string): PbType | undefined {
  // Walked by hand: protobufjs's lookup() caches every name asked for, misses too, and these
  // names come from clients.
  let o: unknown = from.root;
  for (const part of url.slice(url.lastIndexOf('/') + 1).split('.')) {
    const nested = (o as { nested?: Obj }).nested;
    if (nested === undefined || !Object.hasOwn(nested, part)) return undefined;
    o = nested[part];
  }
  return isType(o) ? o : undefined;
}

// ---- parsing: a JSON value (parsed) -> the plain object Type.fromObject takes (.proto field names)

// No depth limit of its own: protobufjs's fromObject refuses messages nested too deep ("maximum
// nesting depth exceeded"), and JSON nested too deep for the stack fails too (decode() catches it).
function messageFromJson(type: PbType, v: unknown, where: string): Obj {
  const form = formOf(type);
  return form !== undefined ? form[0](v, where, type) : fieldsFromJson(type, v, where);
}

/** A message's fields, as an object of JSON names or .proto names. */
function fieldsFromJson(type: PbType, v: unknown, where: string): Obj {
  if (!isObject(v)) throw invalid(`${where}: expected a JSON object for ${type.name}`);
  const fields = fieldsOf(type);
  const out: Obj = {};
  for (const key of Object.keys(v)) {
    const f = fields.get(key);
    if (f === undefined) throw invalid(`${where}: unknown field "${key}" in ${type.fullName.slice(1)}`);
    const at = `${where}.${key}`;
    // A field given twice, by its JSON name and its .proto name, is refused (a key written twice
    // never gets here: duplicateKey). A null that sets nothing counts too; it leaves `undefined`
    // behind, which fromObject skips.
    if (Object.hasOwn(out, f.name)) throw invalid(`${at}: field ${f.name} is given twice`);
    const val = v[key];
    if (val === null && (f.map || f.repeated || !takesNull(f.resolvedType))) {
      out[f.name] = undefined;
      continue;
    }
    // Two members of one oneof (a null that sets nothing is not a member given).
    const other = f.partOf?.oneof.find((n) => n !== f.name && out[n] !== undefined);
    if (other !== undefined) throw invalid(`${at}: oneof ${f.partOf!.name} is already set by ${other}`);
    if (f.map) {
      if (!isObject(val)) throw invalid(`${at}: expected a JSON object (map)`);
      const m: Obj = {};
      for (const mk of Object.keys(val)) m[mk] = elementFromJson(f, val[mk], `${at}["${mk}"]`);
      out[f.name] = m;
    } else if (f.repeated) {
      if (!Array.isArray(val)) throw invalid(`${at}: expected a JSON array`);
      out[f.name] = val.map((x, i) => elementFromJson(f, x, `${at}[${i}]`));
    } else {
      out[f.name] = fieldFromJson(f, val, at);
    }
  }
  return out;
}

/** One element of a list or one value of a map: null only where it is a value (Value, NullValue). */
function elementFromJson(f: PbField, v: unknown, at: string): unknown {
  if (v === null && !takesNull(f.resolvedType)) throw invalid(`${at}: null is not an element of a list or a map`);
  return fieldFromJson(f, v, at);
}

function anyFromJson(v: unknown, at: string, type: PbType): Obj {
  if (isObject(v) && Object.keys(v).length === 0) return {};
  const url = isObject(v) ? v['@type'] : undefined;
  const t = typeof url === 'string' ? anyType(type, url) : undefined;
  if (t === undefined) throw invalid(`${at}: expected an Any with a "@type" of this service, got ${JSON.stringify(url)}`);
  // {"@type": ..., "value": <the type's own JSON form>}, or the message's fields beside "@type".
  const { '@type': _, ...fields } = v as Obj;
  const inner = messageFromJson(t, formOf(t) !== undefined || (t.fullName === '.google.protobuf.Empty' && 'value' in fields) ? fields.value : fields, at);
  let value: Uint8Array;
  try {
    value = t.encode(t.fromObject(inner)).finish();
  } catch (err) {
    throw invalid(`${at}: ${(err as Error).message}`);
  }
  return { type_url: url, value };
}

const INTEGER = /^-?\d+$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** One value of field `f` (a singular field's, or one element of a repeated or map field). */
function fieldFromJson(f: PbField, v: unknown, at: string): unknown {
  const t = f.resolvedType;
  if (isType(t)) return messageFromJson(t, v, at);
  if (isEnum(t)) {
    if (v === null && takesNull(t)) return 0;
    if (typeof v === 'string') {
      if (!(v in t.values)) throw invalid(`${at}: unknown value "${v}" of enum ${t.name}`);
      return v;
    }
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    throw invalid(`${at}: expected an enum name or number`);
  }
  const type = f.type;
  if (type === 'string') {
    if (typeof v !== 'string') throw invalid(`${at}: expected a string`);
    return v;
  }
  if (type === 'bool') {
    if (typeof v !== 'boolean') throw invalid(`${at}: expected true or false`);
    return v;
  }
  if (type === 'bytes') {
    if (typeof v !== 'string' || !BASE64.test(v)) throw invalid(`${at}: expected base64`);
    return Buffer.from(v, 'base64');
  }
  if (type === 'double' || type === 'float') {
    if (typeof v === 'number') return v;
    // Decimal or exponent notation in a string, "NaN", "Infinity", "-Infinity".
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isNaN(n) || v === 'NaN') return n;
    throw invalid(`${at}: expected a number`);
  }
  // Integers: JSON numbers, or decimal strings (how 64-bit ones are printed).
  const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : '') : typeof v === 'string' ? v : '';
  if (!INTEGER.test(s)) throw invalid(`${at}: expected an integer`);
  const long = type.endsWith('64');
  const bits = long ? 64n : 32n;
  const n = BigInt(s);
  // uint32, uint64, fixed32, fixed64 are unsigned.
  if (/^(u|f)/.test(type) ? n < 0n || n >> bits !== 0n : n < -(1n << (bits - 1n)) || n >= 1n << (bits - 1n)) throw invalid(`${at}: out of range for ${type}`);
  return long ? s : Number(s);
}

// ---- printing: Type.toObject's output (.proto names) -> proto3 JSON

/** A field without presence at its default value is left out of the JSON (proto3 JSON "omits" them). */
function isDefault(f: PbField, v: unknown): boolean {
  if (v === null || v === '' || v === false || v === 0 || v === '0') return true;
  if (f.map) return Object.keys(v as object).length === 0;
  if (f.repeated) return (v as unknown[]).length === 0;
  const t = f.resolvedType;
  return isEnum(t) && typeof v === 'string' && t.values[v] === 0;
}

function messageToJson(type: PbType, o: Obj): unknown {
  const form = formOf(type);
  return form !== undefined ? form[1](o, type) : fieldsToJson(type, o);
}

function fieldsToJson(type: PbType, o: Obj): Obj {
  const fields = fieldsOf(type);
  const out: Obj = {};
  for (const key of Object.keys(o)) {
    const f = fields.get(key);
    const val = o[key];
    if (f === undefined || val === undefined || (f.partOf === null && isDefault(f, val))) continue;
    let j: unknown;
    if (val === null) j = null;
    else if (f.map) {
      const m: Obj = {};
      for (const [mk, x] of Object.entries(val as Obj)) m[mk] = fieldToJson(f, x);
      j = m;
    } else if (f.repeated) j = (val as unknown[]).map((x) => fieldToJson(f, x));
    else j = fieldToJson(f, val);
    out[keyOf(f)] = j;
  }
  return out;
}

function fieldToJson(f: PbField, x: unknown): unknown {
  const t = f.resolvedType;
  if (isType(t)) return messageToJson(t, x as Obj);
  if (isEnum(t)) return takesNull(t) ? null : x;
  // NaN and the infinities as "NaN", "Infinity", "-Infinity" (JSON has no such numbers).
  if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
  return x;
}

function anyToJson(o: Obj, type: PbType): Obj {
  const url = o.type_url as string | undefined;
  if (url === undefined || url === '') return {};
  const t = anyType(type, url);
  if (t === undefined) throw noJson(`Any of unknown type "${url}"`);
  const inner = messageToJson(t, t.toObject(t.decode(Buffer.from((o.value as string | undefined) ?? '', 'base64')), PRINT_OPTIONS));
  return formOf(t) !== undefined ? { '@type': url, value: inner } : { '@type': url, ...(inner as Obj) };
}

/**
 * The first name written twice in one JSON object of `text`, said with where it is; undefined if
 * there is none. JSON.parse keeps the last of them without a word, so the text is scanned once more
 * (JSON that JSON.parse took: no validation here). Any object counts, a Struct's too, as protobuf-es's
 * fromJsonString and Google's json_format refuse them.
 */
function duplicateKey(text: string): string | undefined {
  // The names met so far in each object open at this point (null: an array).
  const open: (Set<string> | null)[] = [];
  let isKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: to the next quote that is not escaped (preceded by an even run of backslashes).
      const start = i;
      for (;;) {
        i = text.indexOf('"', i + 1);
        let b = i;
        while (text.charCodeAt(b - 1) === 0x5c) b--;
        if ((i - b) % 2 === 0) break;
      }
      if (!isKey) continue;
      isKey = false;
      const name: string = text.lastIndexOf('\\', i) > start ? JSON.parse(text.slice(start, i + 1)) : text.slice(start + 1, i);
      const names = open[open.length - 1]!;
      if (names.has(name)) return `the name ${JSON.stringify(name)} appears twice in one JSON object (the second at character ${start})`;
      names.add(name);
    } else if (c === 0x7b) {
      open.push(new Set());
      isKey = true;
    } else if (c === 0x5b) open.push(null);
    else if (c === 0x7d || c === 0x5d) open.pop();
    else if (c === 0x2c) isKey = open[open.length - 1] !== null;
  }
  return undefined;
}

const codecs = new WeakMap<PbType, MessageCodec<unknown>>();

/** The JSON codec of a message type: bytes are UTF-8 JSON. */
export function jsonCodec(type: PbType): MessageCodec<unknown> {
  let c = codecs.get(type);
  if (c !== undefined) return c;
  c = {
    encode(message: unknown): Uint8Array {
      const m = type.fromObject(message as Obj);
      return Buffer.from(JSON.stringify(messageToJson(type, type.toObject(m, PRINT_OPTIONS))), 'utf8');
    },
    decode(bytes: Uint8Array): unknown {
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch (err) {
        throw invalid(`malformed JSON: ${(err as Error).message}`);
      }
      const dup = duplicateKey(text);
      if (dup !== undefined) throw invalid(`request: ${dup}`);
      let m: protobuf.Message;
      try {
        m = type.fromObject(messageFromJson(type, v, 'request'));
      } catch (err) {
        throw err instanceof GrpcError ? err : invalid(`request: ${(err as Error).message}`);
      }
      return type.toObject(m, DECODE_OPTIONS);
    },
  };
  codecs.set(type, c);
  return c;
}
