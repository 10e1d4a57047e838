// Client-side probes for the bench (not the load itself): a raw HTTP/2 unary gRPC call (node:http2,
// used to time cold starts: cheap to retry, no client-side reconnect backoff), and a grpc-js call
// that checks the server answers SayHello correctly with grpc-status 0 before any load runs.
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** 5-byte gRPC prefix + HelloRequest{name: "world"} (field 1, string: 0a 05 'world'). */
export const HELLO_WORLD_FRAME = Buffer.from([0, 0, 0, 0, 7, 0x0a, 0x05, 0x77, 0x6f, 0x72, 0x6c, 0x64]);
/** The framed reply we expect: HelloReply{message: "hello world"}. */
const HELLO_REPLY = Buffer.from([0, 0, 0, 0, 13, 0x0a, 11, ...Buffer.from('hello world')]);

/**
 * One SayHello over a fresh HTTP/2 connection. Resolves true when the reply and grpc-status 0 came
 * back, false on any connection error (refused, reset, ...), so callers can simply retry.
 */
export function rawSayHello(port, timeoutMs = 2000) {
  return new Promise((resolve) => {
    let done = false;
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const finish = (ok) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    session.on('error', () => finish(false));
    const req = session.request({
      ':method': 'POST',
      ':path': '/helloworld.Greeter/SayHello',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks = [];
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (c) => chunks.push(c));
    req.on('trailers', (t) => {
      finish(status === 200 && t['grpc-status'] === '0' && Buffer.concat(chunks).equals(HELLO_REPLY));
    });
    req.on('error', () => finish(false));
    req.on('close', () => finish(false));
    req.end(HELLO_WORLD_FRAME);
  });
}

/**
 * Cold start: keep trying rawSayHello until it succeeds; returns ms since `t0` (a
 * process.hrtime.bigint() taken just before the spawn). Throws after `limitMs`.
 */
export async function waitFirstAnswer(port, t0, limitMs = 20000, isAlive = () => true) {
  for (;;) {
    if (await rawSayHello(port, 1000)) return Number(process.hrtime.bigint() - t0) / 1e6;
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
    if (elapsed > limitMs) throw new Error(`no answer on port ${port} after ${limitMs} ms`);
    if (!isAlive()) throw new Error(`server on port ${port} exited before answering`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

let greeterCtor;
function greeterClientCtor() {
  if (greeterCtor === undefined) {
    const proto = fileURLToPath(new URL('../../protos/helloworld.proto', import.meta.url));
    const def = protoLoader.loadSync(proto, { keepCase: true, defaults: true });
    greeterCtor = grpc.loadPackageDefinition(def).helloworld.Greeter;
  }
  return greeterCtor;
}

/** SayHello({name}) with grpc-js; resolves when the reply is `hello <name>` with status OK, else rejects. */
export function verifyWithGrpcJs(port, name = 'world') {
  const Greeter = greeterClientCtor();
  const client = new Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    let status;
    const call = client.SayHello({ name }, { deadline: Date.now() + 5000 }, (err, reply) => {
      client.close();
      if (err) return reject(new Error(`grpc-js SayHello failed: ${err.code} ${err.details}`));
      if (reply.message !== `hello ${name}`) return reject(new Error(`grpc-js SayHello: unexpected reply ${JSON.stringify(reply)}`));
      // The callback runs after the status arrived; status 0 is what makes err null.
      resolve({ message: reply.message, code: status?.code ?? 0 });
    });
    call.on('status', (s) => (status = s));
  });
}
