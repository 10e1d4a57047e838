// gRPC server reflection, grpc.reflection.v1 and grpc.reflection.v1alpha (same messages, two
// package names; clients try v1, then v1alpha), built on the public API only (like
// @grpc/reflection for grpc-js). With it, grpcurl, buf curl, grpcui, Postman... discover the
// services and call them without the .proto files:
//
//   import { addReflection } from './services/reflection.js';
//   import { healthFileDescriptors } from './services/health.js';  // if health is served
//   import { fileDescriptors } from './generated/helloworld.js';   // from `npm run proto`
//   addReflection(server, fileDescriptors, healthFileDescriptors); // any number of lists
//
// The descriptors are made at build time: `npm run proto` writes, beside each descriptor module, a
// `fileDescriptors` list with every .proto file's serialized FileDescriptorProto (and those of the
// files it imports) and the names the file defines (scripts/proto-descriptors.mjs). At run time this
// module only looks names up in maps and hands the bytes out: no .proto parser, no descriptor
// conversion. A bundle that does not import this module (or `fileDescriptors`) carries none of it.
//
// One ServerReflectionInfo stream answers each request in order, with one response each:
//   list_services                  every service registered on the server at that moment
//                                  (server.getServiceNames()), reflection itself included;
//   file_by_filename               "grpc/testing/test.proto";
//   file_containing_symbol         a service, method, message (nested too), enum, enum value
//                                  ("pkg.Msg.VALUE" as protobuf scopes it, or "pkg.Msg.Enum.VALUE")
//                                  or extension, fully qualified (plain fields are not looked up);
//   file_containing_extension      the file declaring extension N of a message;
//   all_extension_numbers_of_type  the extension numbers known for a message (possibly none).
// A file answer holds the file asked for and, after it, each file it imports directly or not that
// this stream has not been sent yet (the protocol's "each file once per stream"; the file asked for
// is always sent). Anything unknown is answered with an error_response (NOT_FOUND; an empty name,
// a request of no known kind or an extension number below 1 INVALID_ARGUMENT) and the stream stays
// open for the next request.
// The descriptors of reflection itself (both versions) are always known; pass every other service's
// (healthFileDescriptors for grpc.health.v1) so that clients can fetch the file of each service
// listed. Only what is passed is carried: a bundle holds the descriptors of the files it describes.
import { Status, loadServices } from '../index.js';
import type { ProtoFileDescriptor, ServiceDefinition, ServiceImplementation } from '../index.js';
export type { ProtoFileDescriptor } from '../index.js';
import { descriptor, fileDescriptors as reflectionV1Files, serviceNames } from './generated/reflection-v1.js';
import { varintBytes, wireFields } from '../proto/wire.js';
import type {
  ServerReflectionRequest__Output,
  ServerReflectionResponse,
} from './generated/reflection-v1.js';

/** What addReflection() needs: the Server's addService() and getServiceNames(). */
export interface ReflectionRegistry {
  addService(definition: ServiceDefinition, implementation: ServiceImplementation): void;
  getServiceNames(): string[];
}

export const REFLECTION_V1_SERVICE_NAME = serviceNames.ServerReflection;
export const REFLECTION_V1ALPHA_SERVICE_NAME = 'grpc.reflection.v1alpha.ServerReflection';

type Request = ServerReflectionRequest__Output;
type Response = ServerReflectionResponse;

// ---- v1alpha's file: v1's with the package renamed
//
// grpc/reflection/v1alpha/reflection.proto declares the same messages and service as v1's under
// grpc.reflection.v1alpha (their descriptors, as buf builds them, differ in nothing else:
// test/proto/descriptors.test.ts compares ours with buf's). Its FileDescriptorProto is made here
// from v1's (its name, package and the type names of fields and methods rewritten, the lengths
// around them redone) rather than carried as a second 1.8 KB of base64.

/** Per message of descriptor.proto, its fields to rewrite: a nested message's kind, or a name. */
const RENAME: Record<string, Record<number, string>> = {
  file: { 1: 'path', 2: 'name', 4: 'message', 6: 'service' }, // FileDescriptorProto
  message: { 2: 'field', 3: 'message' }, // DescriptorProto: field, nested_type
  field: { 6: 'name' }, // FieldDescriptorProto.type_name
  service: { 2: 'method' }, // ServiceDescriptorProto.method
  method: { 2: 'name', 3: 'name' }, // MethodDescriptorProto: input_type, output_type
};

/** Serialized message `b` of `kind` with grpc.reflection.v1 renamed grpc.reflection.v1alpha. */
function toV1alpha(b: Uint8Array, kind: string): Buffer {
  const out: Uint8Array[] = [];
  for (const [num, wire, start, at, end] of wireFields(b)) {
    const to = RENAME[kind]![num];
    if (wire !== 2 || to === undefined) {
      out.push(b.subarray(start, end)); // copied as it is
      continue;
    }
    let v: Uint8Array = b.subarray(at, end);
    if (to === 'path') v = Buffer.from(Buffer.from(v).toString().replace('/v1/', '/v1alpha/'));
    else if (to === 'name') v = Buffer.from(Buffer.from(v).toString().replace(/^(\.?grpc\.reflection\.)v1(?=\.|$)/, '$1v1alpha'));
    else v = toV1alpha(v, to);
    out.push(varintBytes(num * 8 + 2), varintBytes(v.length), v);
  }
  return Buffer.concat(out);
}

/** grpc/reflection/v1alpha/reflection.proto, made from the v1 file. */
export const reflectionV1alphaFiles: readonly ProtoFileDescriptor[] = reflectionV1Files.map((f) => ({
  ...f,
  name: f.name.replace('/v1/', '/v1alpha/'),
  package: 'grpc.reflection.v1alpha',
  descriptor: toV1alpha(Buffer.from(f.descriptor, 'base64'), 'file').toString('base64'),
}));

/** The files, and which file defines each name. Built once per addReflection(). */
class FileIndex {
  readonly files = new Map<string, ProtoFileDescriptor>();
  readonly symbols = new Map<string, ProtoFileDescriptor>();
  readonly messages = new Map<string, ProtoFileDescriptor>();
  /** extended message -> extension number -> declaring file */
  readonly extensions = new Map<string, Map<number, ProtoFileDescriptor>>();
  private readonly bytes = new Map<string, Buffer>();

  constructor(sets: readonly (readonly ProtoFileDescriptor[])[]) {
    for (const set of sets) {
      if (!Array.isArray(set)) throw new TypeError('addReflection: expected lists of file descriptors (`fileDescriptors` from a module `npm run proto` generated)');
      for (const file of set) this.add(file);
    }
  }

  private add(file: ProtoFileDescriptor): void {
    if (file === null || typeof file !== 'object' || typeof file.name !== 'string' || typeof file.descriptor !== 'string') {
      throw new TypeError('addReflection: not a file descriptor from `npm run proto`');
    }
    // The same file may come in several sets (an imported file is in each importer's set).
    if (this.files.has(file.name)) return;
    this.files.set(file.name, file);
    const prefix = file.package === '' ? '' : file.package + '.';
    for (const s of file.symbols) this.symbols.set(prefix + s, file);
    for (const m of file.messages) {
      this.symbols.set(prefix + m, file);
      this.messages.set(prefix + m, file);
    }
    for (const [extendee, numbers] of Object.entries(file.extensions)) {
      let byNumber = this.extensions.get(extendee);
      if (byNumber === undefined) this.extensions.set(extendee, (byNumber = new Map()));
      for (const n of numbers) byNumber.set(n, file);
    }
  }

  /** The serialized FileDescriptorProto (decoded from base64 on first use, then kept). */
  bytesOf(file: ProtoFileDescriptor): Buffer {
    let b = this.bytes.get(file.name);
    if (b === undefined) this.bytes.set(file.name, (b = Buffer.from(file.descriptor, 'base64')));
    return b;
  }

  /** `file`, then each of its transitive imports that is not in `sent` yet; all are added to `sent`. */
  withDependencies(file: ProtoFileDescriptor, sent: Set<string>): Buffer[] {
    const out = [this.bytesOf(file)];
    sent.add(file.name);
    const queue = [...file.dependencies];
    for (let i = 0; i < queue.length; i++) {
      const dep = this.files.get(queue[i]!);
      if (dep === undefined || sent.has(dep.name)) continue;
      sent.add(dep.name);
      out.push(this.bytesOf(dep));
      queue.push(...dep.dependencies);
    }
    return out;
  }
}

const stripDot = (name: string): string => (name.startsWith('.') ? name.slice(1) : name);

function error(code: Status, message: string): Pick<Response, 'error_response'> {
  return { error_response: { error_code: code, error_message: message } };
}

/** The answer to one request (without valid_host and original_request). */
function answer(index: FileIndex, server: ReflectionRegistry, req: Request, sent: Set<string>): Response {
  const files = (file: ProtoFileDescriptor): Response => ({
    file_descriptor_response: { file_descriptor_proto: index.withDependencies(file, sent) },
  });
  switch (req.message_request) {
    case 'list_services':
      return { list_services_response: { service: server.getServiceNames().map((name) => ({ name })) } };
    case 'file_by_filename': {
      const name = req.file_by_filename ?? '';
      if (name === '') return error(Status.INVALID_ARGUMENT, 'file_by_filename is empty');
      const file = index.files.get(name);
      return file === undefined ? error(Status.NOT_FOUND, `file "${name}" not found`) : files(file);
    }
    case 'file_containing_symbol': {
      const symbol = stripDot(req.file_containing_symbol ?? '');
      if (symbol === '') return error(Status.INVALID_ARGUMENT, 'file_containing_symbol is empty');
      const file = index.symbols.get(symbol);
      return file === undefined ? error(Status.NOT_FOUND, `symbol "${symbol}" not found`) : files(file);
    }
    case 'file_containing_extension': {
      const ext = req.file_containing_extension;
      const type = stripDot(ext?.containing_type ?? '');
      const number = ext?.extension_number ?? 0;
      if (type === '') return error(Status.INVALID_ARGUMENT, 'file_containing_extension: containing_type is empty');
      if (number < 1) return error(Status.INVALID_ARGUMENT, `file_containing_extension: invalid extension number ${number}`);
      if (!index.messages.has(type)) return error(Status.NOT_FOUND, `message type "${type}" not found`);
      const file = index.extensions.get(type)?.get(number);
      return file === undefined ? error(Status.NOT_FOUND, `extension ${number} of "${type}" not found`) : files(file);
    }
    case 'all_extension_numbers_of_type': {
      const type = stripDot(req.all_extension_numbers_of_type ?? '');
      if (type === '') return error(Status.INVALID_ARGUMENT, 'all_extension_numbers_of_type is empty');
      if (!index.messages.has(type)) return error(Status.NOT_FOUND, `message type "${type}" not found`);
      const numbers = [...(index.extensions.get(type)?.keys() ?? [])].sort((a, b) => a - b);
      return { all_extension_numbers_response: { base_type_name: type, extension_number: numbers } };
    }
    default:
      return error(Status.INVALID_ARGUMENT, 'the request asks for nothing this server knows (no message_request set)');
  }
}

/**
 * Serve grpc.reflection.v1.ServerReflection and grpc.reflection.v1alpha.ServerReflection on
 * `server`, describing the files of every `fileDescriptors` list given (from modules `npm run
 * proto` generated) plus those of reflection itself. Services are listed as registered on the
 * server when a client asks, so services added later are listed too.
 */
export function addReflection(server: ReflectionRegistry, ...fileSets: readonly (readonly ProtoFileDescriptor[])[]): void {
  if (server === null || typeof server !== 'object' || typeof server.getServiceNames !== 'function') {
    throw new TypeError('addReflection: expected a Server (with addService and getServiceNames)');
  }
  const index = new FileIndex([...fileSets, reflectionV1Files, reflectionV1alphaFiles]);
  async function* serverReflectionInfo(requests: AsyncIterable<Request>): AsyncIterable<Response> {
    const sent = new Set<string>(); // files this stream has been sent
    for await (const req of requests) {
      const res = answer(index, server, req, sent);
      res.valid_host = req.host;
      res.original_request = req;
      yield res;
    }
  }
  // Reflection streams bypass the job queue: clients (buf curl, grpcurl) keep theirs open while
  // they make the calls it describes, which would otherwise wait forever behind it on a board with
  // maxRunning 1, or behind two debugging sessions with maxRunning 2. Answers are map look-ups.
  const method = { ...loadServices(descriptor)[REFLECTION_V1_SERVICE_NAME]!.methods['ServerReflectionInfo']!, bypassQueue: true };
  const v1: ServiceDefinition = { name: REFLECTION_V1_SERVICE_NAME, methods: { ServerReflectionInfo: method } };
  // v1alpha has the same messages under another package: the same codecs, another path.
  const v1alpha: ServiceDefinition = {
    name: REFLECTION_V1ALPHA_SERVICE_NAME,
    methods: { ServerReflectionInfo: { ...method, path: `/${REFLECTION_V1ALPHA_SERVICE_NAME}/ServerReflectionInfo` } },
  };
  const impl = { ServerReflectionInfo: serverReflectionInfo };
  server.addService(v1, impl);
  server.addService(v1alpha, impl);
}
