// grpc-edge public API. Services, examples and the CLI import only from here.
export { Server } from './server/server.js';
export type { Http1Hook, ServerOptions, ServerStats, WebHook } from './server/server.js';
export { webProtocols } from './web/index.js';
export type { WebOptions, WebProtocols, CorsOptions, PlainAnswer, GetRoute } from './web/index.js';
export { ServerCredentials } from './server/credentials.js';
export type { KeyCertPair } from './server/credentials.js';
export { Metadata } from './grpc/metadata.js';
export type { MetadataValue } from './grpc/metadata.js';
export { Status, GrpcError } from './grpc/status.js';
export type { InterceptorContext, ServerInterceptor } from './grpc/interceptors.js';
export type { Encoding } from './grpc/compression.js';
export type {
  MethodKind,
  MessageCodec,
  MethodDefinition,
  ServiceDefinition,
  CallContext,
  ServerWriter,
  UnaryHandler,
  ServerStreamingHandler,
  ClientStreamingHandler,
  BidiStreamingHandler,
  AnyHandler,
  ServiceImplementation,
} from './grpc/method.js';
export { loadServices } from './proto/index.js';
export type { ProtoFileDescriptor } from './proto/file-descriptor.js';
export { getProfile, profileNames, DEFAULT_PROFILE_NAME } from './server/profile.js';
export type { TargetProfile } from './server/profile.js';
