// The JSON forms of the well-known types whose JSON is a string of their own (protobuf.dev
// "ProtoJSON Format"): Timestamp, Duration, FieldMask, each between its JSON value and the plain
// object protobufjs's fromObject takes and toObject gives ({ longs: String, defaults: true }: int64
// seconds as strings, every field there). json.ts decides when they apply, and has the wrappers,
// Struct, Value, ListValue and Any, which are made of other fields and messages.
import { GrpcError, Status } from '../grpc/status.js';
import { jsonName } from '../proto/json-name.js';

export type Obj = Record<string, unknown>;

export const invalid = (message: string): GrpcError => new GrpcError(Status.INVALID_ARGUMENT, message);

/** The error for a response value that has no JSON form (the call fails with INTERNAL). */
export const noJson = (what: string): Error => new Error(`${what} has no ProtoJSON form`);

// ---- Timestamp: RFC 3339, "Z" on output

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds since the epoch. */
const TS_MIN = -62135596800;
const TS_MAX = 253402300799;
const TS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(?:Z|([+-])(\d\d):(\d\d))$/;

/** ".5", ".000001", ".123456789": nanoseconds with 3, 6 or 9 digits, nothing for 0. */
function fraction(nanos: number): string {
  return nanos === 0 ? '' : '.' + String(nanos).padStart(9, '0').replace(/(000){1,2}$/, '');
}

export function timestampFromJson(v: unknown, at: string): Obj {
  const m = typeof v === 'string' ? TS.exec(v) : null;
  const [, local, frac, sign, oh, om] = m ?? [];
  // The date and time as written, read as UTC; February 30th or hour 24 (which Date rolls over)
  // and second 60 (NaN) do not read back the same.
  const ms = Date.parse(local + 'Z');
  const seconds = ms / 1000 - (sign === undefined ? 0 : Number(sign + 1) * (Number(oh) * 3600 + Number(om) * 60));
  if (!new Date(ms).toJSON()?.startsWith(local!) || Number(oh) > 23 || Number(om) > 59 || !(seconds >= TS_MIN && seconds <= TS_MAX)) {
    throw invalid(`${at}: expected an RFC 3339 time in years 1 to 9999, got ${JSON.stringify(v)}`);
  }
  return { seconds: String(seconds), nanos: frac === undefined ? 0 : Number(frac.padEnd(9, '0')) };
}

export function timestampToJson(o: Obj): string {
  const seconds = Number(o.seconds);
  const nanos = o.nanos as number;
  if (!(seconds >= TS_MIN && seconds <= TS_MAX && nanos >= 0 && nanos <= 999999999)) throw noJson(`Timestamp ${seconds}s ${nanos}ns`);
  return new Date(seconds * 1000).toISOString().slice(0, 19) + fraction(nanos) + 'Z';
}

// ---- Duration: "-1.5s"

const DUR_MAX = 315576000000;
const DUR = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

export function durationFromJson(v: unknown, at: string): Obj {
  const m = typeof v === 'string' ? DUR.exec(v) : null;
  const seconds = Number(m?.[2]);
  if (m === null || seconds > DUR_MAX) throw invalid(`${at}: expected a duration such as "-1.5s", got ${JSON.stringify(v)}`);
  const nanos = m[3] === undefined ? 0 : Number(m[3].padEnd(9, '0'));
  const neg = m[1] !== undefined;
  return { seconds: String(neg ? -seconds : seconds), nanos: neg && nanos !== 0 ? -nanos : nanos };
}

export function durationToJson(o: Obj): string {
  const seconds = Number(o.seconds);
  const nanos = o.nanos as number;
  if (!(Math.abs(seconds) <= DUR_MAX && Math.abs(nanos) <= 999999999) || seconds * nanos < 0) throw noJson(`Duration ${seconds}s ${nanos}ns`);
  return (seconds < 0 || nanos < 0 ? '-' : '') + Math.abs(seconds) + fraction(Math.abs(nanos)) + 's';
}

// ---- FieldMask: "fooBar,baz.quxQuux"

const snake = (path: string): string => path.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());

export function fieldMaskFromJson(v: unknown, at: string): Obj {
  if (typeof v !== 'string' || v.includes('_')) throw invalid(`${at}: expected lowerCamelCase paths such as "fooBar,baz.qux"`);
  return { paths: v === '' ? [] : v.split(',').map(snake) };
}

export function fieldMaskToJson(o: Obj): string {
  return (o.paths as string[])
    .map((p) => {
      const c = jsonName(p);
      // "foo__bar", "foo_1", "fooBar" have no lowerCamelCase that reads back as them.
      if (snake(c) !== p) throw noJson(`FieldMask path "${p}"`);
      return c;
    })
    .join(',');
}
