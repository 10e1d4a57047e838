// gRPC-Web on the wire (binary and -text, the 0x80 trailer frame, its error paths) and CORS
// (preflight, allowed and refused origins), with Node's http client as the peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { startWebServer } from './helpers.js';

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
function send(url: string, method: string, headers: Record<string, string>, body?: string | Buffer): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A gRPC frame: flag, length, payload. */
const frame = (payload: Buffer, flag = 0): Buffer => {
  const b = Buffer.alloc(5 + payload.length);
  b[0] = flag;
  b.writeUInt32BE(payload.length, 1);
  payload.copy(b, 5);
  return b;
};
// HelloRequest { name = "pi" } in protobuf.
const HELLO_PI = frame(Buffer.from([0x0a, 0x02, 0x70, 0x69]));

/** The frames of a gRPC-Web body: messages, then the trailers as a header map. */
function parseBody(body: Buffer): { messages: Buffer[]; trailers: Record<string, string> } {
  const messages: Buffer[] = [];
  const trailers: Record<string, string> = {};
  let at = 0;
  while (at < body.length) {
    const flag = body[at]!;
    const len = body.readUInt32BE(at + 1);
    const payload = body.subarray(at + 5, at + 5 + len);
    at += 5 + len;
    if (flag & 0x80) {
      for (const line of payload.toString('latin1').split('\r\n')) {
        const i = line.indexOf(':');
        if (i > 0) trailers[line.slice(0, i)] = line.slice(i + 1).trim();
      }
    } else messages.push(payload);
  }
  return { messages, trailers };
}

test('gRPC-Web binary: the reply, then the status in a 0x80 trailer frame; errors there too', async () => {
  const s = await startWebServer({ maxReceiveMessageLength: 64 });
  try {
    const ok = await send(`${s.url}/helloworld.Greeter/SayHello`, 'POST', { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' }, HELLO_PI);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['content-type'], 'application/grpc-web+proto');
    const b = parseBody(ok.body);
    assert.equal(b.messages.length, 1);
    assert.equal(b.messages[0]!.subarray(2).toString(), 'hello pi');
    assert.deepEqual(b.trailers, { 'grpc-status': '0' });

    const unknown = parseBody((await send(`${s.url}/helloworld.Greeter/Nope`, 'POST', { 'content-type': 'application/grpc-web' }, HELLO_PI)).body);
    assert.equal(unknown.trailers['grpc-status'], '12');
    assert.match(unknown.trailers['grpc-message']!, /unknown method Nope/);

    const big = parseBody((await send(`${s.url}/helloworld.Greeter/SayHello`, 'POST', { 'content-type': 'application/grpc-web' }, frame(Buffer.alloc(100)))).body);
    assert.equal(big.trailers['grpc-status'], '8');

    const garbage = parseBody((await send(`${s.url}/helloworld.Greeter/SayHello`, 'POST', { 'content-type': 'application/grpc-web' }, frame(Buffer.from([0xff, 0xff, 0xff])))).body);
    assert.equal(garbage.trailers['grpc-status'], '13', 'a message that is not protobuf: INTERNAL, as over gRPC');
  } finally {
    await s.close();
  }
});

test('gRPC-Web text: base64 both ways (also when split mid-quantum); malformed base64 is INVALID_ARGUMENT', async () => {
  const s = await startWebServer();
  try {
    const url = `${s.url}/helloworld.Greeter/SayHello`;
    const ok = await send(url, 'POST', { 'content-type': 'application/grpc-web-text' }, HELLO_PI.toString('base64'));
    assert.equal(ok.headers['content-type'], 'application/grpc-web-text+proto');
    const b = parseBody(Buffer.from(ok.body.toString('latin1'), 'base64'));
    assert.equal(b.messages[0]!.subarray(2).toString(), 'hello pi');
    assert.equal(b.trailers['grpc-status'], '0');

    // The body in chunks that cut base64 quanta: the server decodes across them.
    const text = HELLO_PI.toString('base64');
    const chunked = await new Promise<Res>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/grpc-web-text' }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.write(text.slice(0, 3));
      setTimeout(() => req.end(text.slice(3)), 50);
    });
    const c = parseBody(Buffer.from(chunked.body.toString('latin1'), 'base64'));
    assert.equal(c.messages[0]!.subarray(2).toString(), 'hello pi');

    for (const bad of ['AAAA!!', 'AAAAAAQKAnBp' + 'A']) {
      const r = await send(url, 'POST', { 'content-type': 'application/grpc-web-text' }, bad);
      const t = parseBody(Buffer.from(r.body.toString('latin1'), 'base64')).trailers;
      assert.equal(t['grpc-status'], '3', bad);
      assert.match(t['grpc-message']!, /malformed grpc-web-text/);
    }
    // Still serving.
    assert.equal(parseBody((await send(url, 'POST', { 'content-type': 'application/grpc-web' }, HELLO_PI)).body).trailers['grpc-status'], '0');
  } finally {
    await s.close();
  }
});

test('CORS: allowed origins get the preflight answer and exposed status headers; others get 403', async () => {
  const s = await startWebServer({ webOptions: { cors: { origins: ['http://dash.local:8080'] } } });
  const allowed = 'http://dash.local:8080';
  try {
    const pre = await send(`${s.url}/helloworld.Greeter/SayHello`, 'OPTIONS', {
      origin: allowed,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,connect-protocol-version,x-grpc-web,x-user-agent',
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], allowed);
    assert.match(pre.headers['access-control-allow-methods'] ?? '', /POST/);
    assert.equal(pre.headers['access-control-allow-headers'], 'content-type,connect-protocol-version,x-grpc-web,x-user-agent');
    assert.ok(Number(pre.headers['access-control-max-age']) > 0);

    for (const [ct, body] of [['application/grpc-web+proto', HELLO_PI], ['application/json', '{"name":"cors"}']] as const) {
      const r = await send(`${s.url}/helloworld.Greeter/SayHello`, 'POST', { origin: allowed, 'content-type': ct }, body);
      assert.equal(r.status, 200, ct);
      assert.equal(r.headers['access-control-allow-origin'], allowed);
      const exposed = (r.headers['access-control-expose-headers'] ?? '').split(/,\s*/);
      for (const h of ['grpc-status', 'grpc-message', 'grpc-status-details-bin']) assert.ok(exposed.includes(h), `${ct}: ${h} exposed`);
    }

    for (const method of ['OPTIONS', 'POST']) {
      const r = await send(`${s.url}/helloworld.Greeter/SayHello`, method, { origin: 'http://evil.example', 'content-type': 'application/json', 'access-control-request-method': 'POST' }, method === 'POST' ? '{}' : undefined);
      assert.equal(r.status, 403, method);
      assert.equal(r.headers['access-control-allow-origin'], undefined);
      assert.match(r.body.toString(), /origin http:\/\/evil\.example is not allowed/);
    }
  } finally {
    await s.close();
  }
  // Without cors at all, a browser's cross-origin request is refused too.
  const plain = await startWebServer();
  try {
    const r = await send(`${plain.url}/helloworld.Greeter/SayHello`, 'POST', { origin: allowed, 'content-type': 'application/json' }, '{}');
    assert.equal(r.status, 403);
  } finally {
    await plain.close();
  }
});
