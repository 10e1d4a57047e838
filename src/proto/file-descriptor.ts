// The shape of the `fileDescriptors` lists that scripts/proto-gen.mjs writes into each generated
// module, for server reflection (src/services/reflection.ts). Types only: no code.

/** One .proto file as `npm run proto` describes it: an element of a generated `fileDescriptors`. */
export interface ProtoFileDescriptor {
  /** The name other files import it by, e.g. "grpc/testing/messages.proto". */
  readonly name: string;
  /** Its package ("" for none). */
  readonly package: string;
  /** The files it imports, by name. */
  readonly dependencies: readonly string[];
  /** Message types it defines (nested ones too), relative to the package. */
  readonly messages: readonly string[];
  /** Everything else it defines, relative to the package: services, methods, enums, enum values, extensions. */
  readonly symbols: readonly string[];
  /** Extension numbers it declares, by extended message (fully qualified). */
  readonly extensions: Readonly<Record<string, readonly number[]>>;
  /** The serialized google.protobuf.FileDescriptorProto, base64. */
  readonly descriptor: string;
}
