// The gRPC interoperability test server (grpc.testing.TestService), following the server features
// of the gRPC project's interop test descriptions, built on the public API only.
//
//   npm run interop-server -- --port 10000 [--use_tls] [--key_file k.pem --cert_file c.pem]
//
// Without --key_file/--cert_file, --use_tls makes a throw-away self-signed certificate (openssl,
// in a temp dir) for localhost, 127.0.0.1 and *.test.google.fr (the host override interop clients
// use) and prints the CA file clients should trust (--use_test_ca with that file as root).
//
// Features: EmptyCall, UnaryCall (response_size, response_type, CompressedResponse,
// CompressedRequest, Echo Status), CacheableUnaryCall, StreamingInputCall, StreamingOutputCall,
// FullDuplexCall, HalfDuplexCall (interval_us observed), Echo Metadata (x-grpc-test-echo-initial
// back as initial metadata, x-grpc-test-echo-trailing-bin as trailing metadata). UnimplementedCall
// answers UNIMPLEMENTED and grpc.testing.UnimplementedService is not registered.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { GrpcError, Metadata, Server, ServerCredentials, Status, loadServices } from '../../src/index.js';
import type { CallContext, ServerInterceptor, ServerOptions } from '../../src/index.js';
import { addReflection } from '../../src/services/reflection.js';
import { descriptor, fileDescriptors, serviceNames } from './generated/test.js';
import type {
  BoolValue__Output,
  EchoStatus__Output,
  Payload,
  ResponseParameters__Output,
  StreamingOutputCallRequest__Output,
  StreamingOutputCallResponse,
  TestServiceHandlers,
} from './generated/test.js';

const ECHO_INITIAL = 'x-grpc-test-echo-initial';
const ECHO_TRAILING = 'x-grpc-test-echo-trailing-bin';

/** The parts of the context that the gRPC layer may not provide (optional in CallContext). */
interface CompressionAware {
  readonly requestCompressed?: boolean;
}

function zeros(size: number): Payload {
  if (!Number.isInteger(size) || size < 0) throw new GrpcError(Status.INVALID_ARGUMENT, `invalid payload size ${size}`);
  return { type: 'COMPRESSABLE', body: Buffer.alloc(size) };
}

function checkPayloadType(type: string | number): void {
  // "If the server does not support the response_type, then it should fail the RPC with INVALID_ARGUMENT."
  if (type !== 'COMPRESSABLE') throw new GrpcError(Status.INVALID_ARGUMENT, `unsupported response_type ${type}`);
}

/**
 * CompressedRequest: "When the client sets expect_compressed to true, the server expects the client
 * request to be compressed. If it's not, it fails the RPC with INVALID_ARGUMENT."
 */
function checkCompressed(expect: BoolValue__Output | null, ctx: CallContext): void {
  if (expect?.value !== true) return;
  if ((ctx as CallContext & CompressionAware).requestCompressed !== true) {
    throw new GrpcError(Status.INVALID_ARGUMENT, 'expected a compressed request message');
  }
}

/** Echo Status: "the server closes the stream with the status code and message contained within". */
function echoStatus(status: EchoStatus__Output | null): void {
  if (status !== null && status.code !== 0) throw new GrpcError(status.code as Status, status.message);
}

/**
 * Send the response headers now: after choosing the response compression, with the echoed
 * x-grpc-test-echo-initial if the client sent one. Must run before the first reply.
 */
function beginResponse(ctx: CallContext, compress: boolean | undefined): void {
  if (compress !== undefined) ctx.setCompression(compress ? 'gzip' : 'identity');
  const initial = ctx.metadata.get(ECHO_INITIAL);
  if (initial.length > 0) {
    const md = new Metadata();
    for (const v of initial) md.add(ECHO_INITIAL, v);
    ctx.sendHeaders(md);
  }
}

/** Echo Metadata (trailing half): copy x-grpc-test-echo-trailing-bin to the trailers, whatever the outcome. */
const echoTrailing: ServerInterceptor = async (ctx, next) => {
  for (const v of ctx.metadata.get(ECHO_TRAILING)) ctx.trailers.add(ECHO_TRAILING, v);
  await next();
};

/** Any ResponseParameters asking for compression: the call then negotiates gzip. */
function wantsCompression(params: ResponseParameters__Output[]): boolean | undefined {
  let any: boolean | undefined;
  for (const p of params) if (p.compressed !== null) any = (any ?? false) || p.compressed.value;
  return any;
}

type Writer = Parameters<TestServiceHandlers['StreamingOutputCall']>[1];

/** StreamingOutputCall / FullDuplexCall: one reply per ResponseParameters, interval_us observed. */
async function replyAll(params: ResponseParameters__Output[], out: Writer, ctx: CallContext): Promise<void> {
  for (const p of params) {
    // "interval_us acts like a sleep *before* sending the response".
    if (p.interval_us > 0) await sleep(p.interval_us / 1000, undefined, { signal: ctx.signal });
    const reply: StreamingOutputCallResponse = { payload: zeros(p.size) };
    // Per message: "when response_compressed is false, the response's messages MUST NOT have the
    // compressed message flag set".
    if (p.compressed !== null) await out.write(reply, { compress: p.compressed.value });
    else await out.write(reply);
  }
}

function checkStreamingRequest(req: StreamingOutputCallRequest__Output): void {
  checkPayloadType(req.response_type);
  echoStatus(req.response_status);
}

export interface InteropServerOptions extends ServerOptions {
  /** Default 0.0.0.0:0 style: host to bind. */
  host?: string;
  /** Port; 0 picks a free one. */
  port?: number;
  /** Serve TLS (ALPN h2). */
  useTls?: boolean;
  /** PEM key and certificate chain; generated (self-signed) when absent and useTls is set. */
  key?: Buffer;
  cert?: Buffer;
  /** SimpleResponse.server_id when fill_server_id is set. */
  serverId?: string;
}

export interface InteropServer {
  server: Server;
  port: number;
  /** The certificate clients should trust when TLS is on (the generated one, or `cert`). */
  caCert: Buffer | null;
}

/** The TestService handlers (exported for tests that mount them on their own server). */
export function testServiceHandlers(serverId = 'grpc-edge-interop'): TestServiceHandlers {
  return {
    EmptyCall: () => ({}),

    UnaryCall: (req, ctx) => {
      checkCompressed(req.expect_compressed, ctx);
      checkPayloadType(req.response_type);
      beginResponse(ctx, req.response_compressed?.value);
      echoStatus(req.response_status);
      return {
        payload: zeros(req.response_size),
        ...(req.fill_server_id ? { server_id: serverId } : {}),
      };
    },

    CacheableUnaryCall: (_req, ctx) => {
      // "returns the SimpleResponse proto with the payload set to current timestamp ... In
      // addition it adds cache control headers ... Currently we set the max-age to 60 seconds."
      const md = new Metadata();
      md.set('cache-control', 'max-age=60, public');
      for (const v of ctx.metadata.get(ECHO_INITIAL)) md.add(ECHO_INITIAL, v);
      ctx.sendHeaders(md);
      const nanos = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
      return { payload: { type: 'COMPRESSABLE', body: Buffer.from(nanos.toString()) } };
    },

    StreamingInputCall: async (requests, ctx) => {
      let total = 0;
      for await (const req of requests) {
        checkCompressed(req.expect_compressed, ctx);
        total += req.payload?.body.length ?? 0;
      }
      beginResponse(ctx, undefined);
      return { aggregated_payload_size: total };
    },

    StreamingOutputCall: async (req, out, ctx) => {
      checkStreamingRequest(req);
      beginResponse(ctx, wantsCompression(req.response_parameters));
      await replyAll(req.response_parameters, out, ctx);
    },

    FullDuplexCall: async (requests, out, ctx) => {
      let begun = false;
      for await (const req of requests) {
        if (!begun) {
          begun = true;
          beginResponse(ctx, wantsCompression(req.response_parameters));
        }
        // "The server will not process any further messages on the stream sent by the client."
        checkStreamingRequest(req);
        await replyAll(req.response_parameters, out, ctx);
      }
      if (!begun) beginResponse(ctx, undefined);
    },

    HalfDuplexCall: async (requests, out, ctx) => {
      const all: StreamingOutputCallRequest__Output[] = [];
      for await (const req of requests) all.push(req);
      beginResponse(ctx, all.length > 0 ? wantsCompression(all[0]!.response_parameters) : undefined);
      for (const req of all) {
        checkStreamingRequest(req);
        await replyAll(req.response_parameters, out, ctx);
      }
    },

    UnimplementedCall: () => {
      throw new GrpcError(Status.UNIMPLEMENTED, 'UnimplementedCall is not implemented, as the interop tests expect');
    },
  };
}

/** A self-signed certificate for the names interop clients use, made with openssl. */
export function makeTestCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-edge-interop-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', key, '-out', cert, '-days', '30', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,DNS:*.test.google.fr,IP:127.0.0.1,IP:::1',
        '-addext', 'basicConstraints=critical,CA:TRUE',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return { key: readFileSync(key), cert: readFileSync(cert) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Start the interop server; resolves once it listens. */
export async function startInteropServer(options: InteropServerOptions = {}): Promise<InteropServer> {
  const { host = '0.0.0.0', port = 0, useTls = false, key, cert, serverId, ...serverOptions } = options;
  const server = new Server({
    // The interop client sends ~270 kB messages and asks for ~315 kB replies.
    maxReceiveMessageLength: 4 * 1024 * 1024,
    maxSendMessageLength: 4 * 1024 * 1024,
    ...serverOptions,
    interceptors: [echoTrailing, ...(serverOptions.interceptors ?? [])],
  });
  const services = loadServices(descriptor);
  server.addService(services[serviceNames.TestService]!, testServiceHandlers(serverId));
  // Server reflection (v1 and v1alpha): grpcurl, buf curl... call TestService without test.proto.
  addReflection(server, fileDescriptors);
  let creds = ServerCredentials.createInsecure();
  let caCert: Buffer | null = null;
  if (useTls) {
    const pair = key !== undefined && cert !== undefined ? { key, cert } : makeTestCertificate();
    creds = ServerCredentials.createSsl(null, [{ private_key: pair.key, cert_chain: pair.cert }], false);
    caCert = pair.cert;
  }
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const bound = await server.bind(address, creds);
  server.start();
  return { server, port: bound, caCert };
}

// ---- command line ----

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) out[a.slice(2)] = argv[++i]!;
    else out[a.slice(2)] = 'true';
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const known = new Set(['port', 'use_tls', 'host', 'key_file', 'cert_file', 'profile', 'ca_out']);
  for (const k of Object.keys(args)) if (!known.has(k)) throw new Error(`unknown option --${k}`);
  const port = Number(args['port'] ?? '10000');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${args['port']}`);
  const useTls = args['use_tls'] === 'true' || args['use_tls'] === '1';
  const options: InteropServerOptions = { port, useTls, host: args['host'] ?? '0.0.0.0' };
  if (args['profile'] !== undefined) options.profile = args['profile'];
  if ((args['key_file'] === undefined) !== (args['cert_file'] === undefined)) {
    throw new Error('--key_file and --cert_file go together');
  }
  if (args['key_file'] !== undefined) {
    options.key = readFileSync(args['key_file']);
    options.cert = readFileSync(args['cert_file']!);
  }
  const { server, port: bound, caCert } = await startInteropServer(options);
  console.log(`interop server listening on ${options.host}:${bound}${useTls ? ' (TLS)' : ''}`);
  if (useTls && options.key === undefined && caCert !== null) {
    const caPath = resolve(args['ca_out'] ?? join(tmpdir(), `grpc-edge-interop-ca-${bound}.pem`));
    writeFileSync(caPath, caCert);
    console.log(`self-signed certificate (trust it as the CA): ${caPath}`);
  }
  const stop = (): void => {
    server.stop(2000).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(`interop server: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
