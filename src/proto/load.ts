// Services from protobufjs JSON descriptors, using only the LIGHT protobufjs build (reflection,
// encode/decode; no .proto parser: descriptors are made at build time by scripts/proto-gen.mjs).
//
// Import specifier: 'protobufjs/light.js'. protobufjs has no "exports" map, so under NodeNext the
// specifier must name the file; it is CommonJS, so Node hands its module.exports over as the
// default import, and TypeScript (light.d.ts re-exports index.d.ts) types that default import as
// the whole namespace. esbuild resolves the same file and wraps it the same way when bundling.
//
// Messages are plain objects, converted with the options most @grpc/proto-loader users pass:
//   keepCase      field names exactly as in the .proto (snake_case stays snake_case); this is
//                 fixed when the descriptor is generated (proto-gen parses with keepCase: true)
//   longs: String 64-bit integers decode to decimal strings (no precision loss, no Long objects)
//   enums: String enum fields decode to the value's name ("SERVING"); names or numbers are
//                 accepted when encoding
//   bytes: Buffer bytes fields decode to Buffers (views into the received message: copy one you
//                 keep for long if memory matters); Uint8Array or base64 strings encode
//   defaults: true every field is present after decoding: zero values, [] for repeated, {} for
//                 maps, null for unset sub-messages (members of a oneof are left out)
//   oneofs: true  a oneof's name is set to the name of its member that is present
// Encoding goes through Type.fromObject, so a message given with wrong field types throws a
// TypeError (which the call layer turns into a status) rather than writing garbage.
import protobuf from 'protobufjs/light.js';
import type { MessageCodec, MethodDefinition, MethodKind, ServiceDefinition } from '../grpc/method.js';
import { PREFIX_LENGTH } from '../grpc/message-framing.js';

type PbType = protobuf.Type;
type PbConversionOptions = protobuf.IConversionOptions;

/** The options messages are decoded with (see the header). */
export const DECODE_OPTIONS: Readonly<PbConversionOptions> = Object.freeze({
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
});

// One Writer and one Reader serve every codec (no Writer/Reader object per message): encoding
// and decoding run synchronously and no user code runs while they are in use (fromObject, which
// may read an application's getters, runs before). Both are emptied after use, so they keep no
// message alive.
const writer = protobuf.Writer.create();
const reader = protobuf.Reader.create(Buffer.alloc(0));

/** protobufjs's queued write operations (Writer.head is the list's no-op head). */
interface WriteOp {
  fn(val: unknown, buf: Buffer, pos: number): void;
  val: unknown;
  len: number;
  next: WriteOp | undefined;
}

// The shared writer takes its write operations from a pool instead of making an object per field
// written (protobufjs makes them in uint32() and _push(), which every other write goes through;
// only fork() for a nested message still makes its own). Emptied after each message, the pool
// keeps at most 64 of them.
const pool: WriteOp[] = [];
let used = 0;
type PoolWriter = protobuf.Writer & { tail: WriteOp; _push: typeof push };
function push(this: PoolWriter, fn: WriteOp['fn'], len: number, val: unknown): PoolWriter {
  const op = (pool[used++] ??= { next: undefined } as WriteOp);
  op.fn = fn;
  op.len = len;
  op.val = val;
  this.tail = this.tail.next = op;
  this.len += len;
  return this;
}
function writeVarint32(val: number, buf: Buffer, pos: number): void {
  while (val > 127) {
    buf[pos++] = (val & 127) | 128;
    val >>>= 7;
  }
  buf[pos] = val;
}
(writer as PoolWriter)._push = push;
writer.uint32 = function (this: PoolWriter, value: number): PoolWriter {
  value >>>= 0;
  // 1 to 5 octets, 7 bits each.
  return this._push(writeVarint32, ((38 - Math.clz32(value | 1)) / 7) | 0, value);
};

/** A codec for one message type: plain object <-> protobuf bytes. */
export function messageCodec<T = any>(type: PbType): MessageCodec<T> {
  const encodeFramed = (message: T): Buffer => {
    const m = type.fromObject(message as Record<string, unknown>);
    const w = writer;
    const head = w.head as WriteOp;
    try {
      type.encode(m, w);
      // Writer.finish() with room for the prefix in front.
      const buf = Buffer.allocUnsafe(PREFIX_LENGTH + w.len);
      let pos = PREFIX_LENGTH;
      for (let op = head.next; op; op = op.next) {
        op.fn(op.val, buf, pos);
        pos += op.len;
      }
      return buf;
    } finally {
      // What reset() does, keeping the head operation instead of allocating a new one; the pooled
      // operations let go of their values and of operations beyond the pool.
      for (let i = 0; i < used; i++) pool[i]!.val = pool[i]!.next = undefined;
      if (used > 64) pool.length = 64;
      used = 0;
      head.next = undefined;
      w.tail = head;
      w.len = 0;
      w.states = null;
    }
  };
  const decodeFrom = (buf: Buffer, start: number): T => {
    const r = reader;
    r.buf = buf;
    r.pos = start;
    r.len = buf.length;
    let m: protobuf.Message;
    try {
      m = type.decode(r);
    } finally {
      // Also when decode throws: the shared reader keeps no request chunk alive.
      r.buf = null as unknown as Buffer;
    }
    return type.toObject(m, DECODE_OPTIONS) as T;
  };
  return {
    encode: (message: T): Uint8Array => encodeFramed(message).subarray(PREFIX_LENGTH),
    encodeFramed,
    // protobufjs reads Buffers with its faster Buffer reader, and bytes fields then come out as
    // Buffers: the bytes are read through a Buffer view (no copy), Buffer or not.
    decode: (bytes: Uint8Array): T => decodeFrom(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0),
    decodeFrom,
    type,
  };
}

function methodKind(m: protobuf.Method): MethodKind {
  if (m.requestStream) return m.responseStream ? 'bidi_streaming' : 'client_streaming';
  return m.responseStream ? 'server_streaming' : 'unary';
}

function collectServices(ns: protobuf.NamespaceBase, out: protobuf.Service[]): void {
  for (const obj of ns.nestedArray) {
    if (obj instanceof protobuf.Service) out.push(obj);
    // Services can only sit in namespaces, but types are namespaces too: walk everything.
    if (obj instanceof protobuf.Namespace) collectServices(obj, out);
  }
}

const stripDot = (name: string): string => (name.startsWith('.') ? name.slice(1) : name);

/** Every service of a protobufjs root, keyed by fully qualified name ("helloworld.Greeter"). */
export function servicesFromRoot(root: protobuf.Root): Record<string, ServiceDefinition> {
  root.resolveAll();
  const services: protobuf.Service[] = [];
  collectServices(root, services);
  const codecs = new Map<PbType, MessageCodec<unknown>>();
  const codecFor = (t: PbType): MessageCodec<unknown> => {
    let c = codecs.get(t);
    if (c === undefined) {
      c = messageCodec(t);
      codecs.set(t, c);
    }
    return c;
  };
  const out: Record<string, ServiceDefinition> = {};
  for (const svc of services) {
    const name = stripDot(svc.fullName);
    const methods: Record<string, MethodDefinition<any, any>> = {};
    for (const m of svc.methodsArray) {
      m.resolve();
      methods[m.name] = {
        name: m.name,
        path: `/${name}/${m.name}`,
        kind: methodKind(m),
        // .proto "option idempotency_level = NO_SIDE_EFFECTS": Connect GET may call it.
        ...(m.options?.idempotency_level === 'NO_SIDE_EFFECTS' ? { idempotent: true } : {}),
        request: codecFor(m.resolvedRequestType!),
        response: codecFor(m.resolvedResponseType!),
      };
    }
    out[name] = { name, methods };
  }
  return out;
}

/**
 * Load the services of a JSON descriptor (what scripts/proto-gen.mjs writes: protobufjs's
 * root.toJSON()). Returns ServiceDefinitions keyed by fully qualified name, ready for
 * server.addService(). Throws if the descriptor is malformed or references unknown types.
 */
export function loadServices(descriptor: object): Record<string, ServiceDefinition> {
  const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
  return servicesFromRoot(root);
}

/** The protobufjs light Type of a message, e.g. for tests or hand-made codecs. */
export function lookupType(descriptor: object, fullName: string): PbType {
  const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
  root.resolveAll();
  return root.lookupType(fullName);
}
