// The proto3 JSON mapping (protobuf.dev "ProtoJSON Format") through protobufjs's reflection: a
// MessageCodec whose bytes are JSON, so that the call engine runs a Connect JSON call exactly as a
// binary one (same handler input shape, same limits on the message size, which counts JSON octets).
//
// Parsing: field names as lowerCamelCase JSON names or as written in the .proto; 64-bit integers
// as decimal strings or numbers; bytes as standard or URL-safe base64, padded or not; enums by
// name or number; null means the default. Anything else is INVALID_ARGUMENT: an unknown field, a
// value of the wrong JSON type, an unknown enum name, a number out of its type's range.
// Printing: lowerCamelCase names, 64-bit integers as strings, bytes as base64, enums by name,
// fields without presence at their default left out.
// Not special-cased: the well-known types with a JSON form of their own (Timestamp, Duration,
// Struct, wrappers, Any, FieldMask) go as ordinary messages.
import type protobuf from 'protobufjs/light.js';
import type { MessageCodec } from '../grpc/method.js';
import { GrpcError, Status } from '../grpc/status.js';
import { DECODE_OPTIONS } from '../proto/load.js';

type PbType = protobuf.Type;
type PbField = protobuf.Field;
type PbEnum = protobuf.Enum;

// Told apart by shape, not instanceof: a value import of protobufjs here would leave its module
// wrapper in every bundle that imports grpc-edge, web protocols or not.
const isType = (t: unknown): t is PbType => t !== null && typeof t === 'object' && 'fieldsArray' in t;
const isEnum = (t: unknown): t is PbEnum => t !== null && typeof t === 'object' && 'valuesById' in t;

const PRINT_OPTIONS: protobuf.IConversionOptions = { longs: String, enums: String, bytes: String, json: true };

/** protoc's ToJsonName: "foo_bar_baz" -> "fooBarBaz". */
export function jsonName(name: string): string {
  let out = '';
  let upper = false;
  for (const c of name) {
    if (c === '_') upper = true;
    else {
      out += upper ? c.toUpperCase() : c;
      upper = false;
    }
  }
  return out;
}

const invalid = (message: string): GrpcError => new GrpcError(Status.INVALID_ARGUMENT, message);

// Per type: JSON name and .proto name -> field.
const fieldsByName = new WeakMap<PbType, Map<string, PbField>>();
function fieldsOf(type: PbType): Map<string, PbField> {
  let m = fieldsByName.get(type);
  if (m === undefined) {
    m = new Map();
    for (const f of type.fieldsArray) {
      f.resolve();
      m.set(f.name, f);
      m.set(jsonName(f.name), f);
    }
    fieldsByName.set(type, m);
  }
  return m;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON value (parsed) -> the plain object Type.fromObject takes (.proto field names). */
function fromJson(type: PbType, v: unknown, where: string): Record<string, unknown> {
  if (!isObject(v)) throw invalid(`${where}: expected a JSON object for ${type.name}`);
  const fields = fieldsOf(type);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) {
    const f = fields.get(key);
    if (f === undefined) throw invalid(`${where}: unknown field "${key}" in ${type.fullName.slice(1)}`);
    const val = v[key];
    if (val === null) continue;
    const at = `${where}.${key}`;
    if (f.map) {
      if (!isObject(val)) throw invalid(`${at}: expected a JSON object (map)`);
      const m: Record<string, unknown> = {};
      for (const k of Object.keys(val)) m[k] = scalarOrMessage(f, val[k], `${at}["${k}"]`);
      out[f.name] = m;
    } else if (f.repeated) {
      if (!Array.isArray(val)) throw invalid(`${at}: expected a JSON array`);
      out[f.name] = val.map((x, i) => scalarOrMessage(f, x, `${at}[${i}]`));
    } else {
      out[f.name] = scalarOrMessage(f, val, at);
    }
  }
  return out;
}

const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32 = new Set(['uint32', 'fixed32']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);
const INTEGER = /^-?\d+$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function scalarOrMessage(f: PbField, v: unknown, at: string): unknown {
  const t = f.resolvedType;
  if (isType(t)) return fromJson(t, v, at);
  if (isEnum(t)) {
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
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
    throw invalid(`${at}: expected a number`);
  }
  // Integers: JSON numbers, or decimal strings (how 64-bit ones are printed).
  const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : '') : typeof v === 'string' ? v : '';
  if (!INTEGER.test(s)) throw invalid(`${at}: expected an integer`);
  if (INT64.has(type)) {
    const n = BigInt(s);
    const unsigned = type === 'uint64' || type === 'fixed64';
    if (unsigned ? n < 0n || n >= 1n << 64n : n < -(1n << 63n) || n >= 1n << 63n) throw invalid(`${at}: out of range for ${type}`);
    return s;
  }
  const n = Number(s);
  if (INT32.has(type) ? n < -0x80000000 || n > 0x7fffffff : UINT32.has(type) ? n < 0 || n > 0xffffffff : true) {
    throw invalid(`${at}: out of range for ${type}`);
  }
  return n;
}

/** A field without presence at its default value is left out of the JSON (proto3 JSON "omits" them). */
function isDefault(f: PbField, v: unknown): boolean {
  if (v === null || v === '' || v === false || v === 0 || v === '0') return true;
  if (f.map) return Object.keys(v as object).length === 0;
  if (f.repeated) return (v as unknown[]).length === 0;
  const t = f.resolvedType;
  return isEnum(t) && typeof v === 'string' && t.values[v] === 0;
}

/** Type.toObject's output (.proto names) -> proto3 JSON (lowerCamelCase names). */
function toJson(type: PbType, o: Record<string, unknown>): Record<string, unknown> {
  const fields = fieldsOf(type);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(o)) {
    const f = fields.get(key);
    const val = o[key];
    if (f === undefined || val === undefined || (f.partOf === null && isDefault(f, val))) continue;
    const t = f.resolvedType;
    let j = val;
    if (isType(t) && val !== null) {
      if (f.map) {
        const m: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(val as Record<string, unknown>)) m[k] = toJson(t, x as Record<string, unknown>);
        j = m;
      } else if (f.repeated) j = (val as Record<string, unknown>[]).map((x) => toJson(t, x));
      else j = toJson(t, val as Record<string, unknown>);
    }
    out[jsonName(f.name)] = j;
  }
  return out;
}

const codecs = new WeakMap<PbType, MessageCodec<unknown>>();

/** The JSON codec of a message type: bytes are UTF-8 JSON. */
export function jsonCodec(type: PbType): MessageCodec<unknown> {
  let c = codecs.get(type);
  if (c !== undefined) return c;
  c = {
    encode(message: unknown): Uint8Array {
      const m = type.fromObject(message as Record<string, unknown>);
      return Buffer.from(JSON.stringify(toJson(type, type.toObject(m, PRINT_OPTIONS))), 'utf8');
    },
    decode(bytes: Uint8Array): unknown {
      let v: unknown;
      try {
        v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
      } catch (err) {
        throw invalid(`malformed JSON: ${(err as Error).message}`);
      }
      let m: protobuf.Message;
      try {
        m = type.fromObject(fromJson(type, v, 'request'));
      } catch (err) {
        throw err instanceof GrpcError ? err : invalid(`request: ${(err as Error).message}`);
      }
      return type.toObject(m, DECODE_OPTIONS);
    },
  };
  codecs.set(type, c);
  return c;
}
