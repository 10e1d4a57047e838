// Real gRPC-Web and Connect clients against the one server: @connectrpc/connect-web (fetch: Node's
// undici speaks HTTP/1.1 only, so these run over HTTP/1.1) and @connectrpc/connect-node (the same
// protocols over HTTP/2 with prior knowledge, and over HTTP/1.1), binary and JSON (Connect's and
// gRPC-Web's application/grpc-web+json), unary and
// streaming, and the error paths: deadline, full queue, cancellation, oversized messages.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import type { Transport } from '@connectrpc/connect';
import * as web from '@connectrpc/connect-web';
import * as node from '@connectrpc/connect-node';
import type { DescService } from '@bufbuild/protobuf';
import { GREETER_PROTO, PROBE_PROTO, cleanupImages, descService, startWebServer } from './helpers.js';
import type { WebServer } from './helpers.js';
import { Status } from '../../src/index.js';

after(cleanupImages);

const Greeter = descService(GREETER_PROTO, 'helloworld.Greeter');
const Probe = descService(PROBE_PROTO, 'webtest.Probe');

interface Flavour {
  name: string;
  transport(baseUrl: string): Transport;
  /** Can it send a stream of requests (fetch cannot). */
  clientStreaming: boolean;
}

const FLAVOURS: Flavour[] = [
  { name: 'connect-web Connect JSON (HTTP/1.1)', transport: (baseUrl) => web.createConnectTransport({ baseUrl, useBinaryFormat: false }), clientStreaming: false },
  { name: 'connect-web Connect binary (HTTP/1.1)', transport: (baseUrl) => web.createConnectTransport({ baseUrl, useBinaryFormat: true }), clientStreaming: false },
  { name: 'connect-web gRPC-Web (HTTP/1.1)', transport: (baseUrl) => web.createGrpcWebTransport({ baseUrl }), clientStreaming: false },
  { name: 'connect-web gRPC-Web JSON (HTTP/1.1)', transport: (baseUrl) => web.createGrpcWebTransport({ baseUrl, useBinaryFormat: false }), clientStreaming: false },
  { name: 'connect-node Connect JSON (HTTP/2)', transport: (baseUrl) => node.createConnectTransport({ baseUrl, httpVersion: '2', useBinaryFormat: false }), clientStreaming: true },
  { name: 'connect-node Connect binary (HTTP/2)', transport: (baseUrl) => node.createConnectTransport({ baseUrl, httpVersion: '2', useBinaryFormat: true }), clientStreaming: true },
  { name: 'connect-node gRPC-Web (HTTP/2)', transport: (baseUrl) => node.createGrpcWebTransport({ baseUrl, httpVersion: '2' }), clientStreaming: true },
  { name: 'connect-node gRPC-Web (HTTP/1.1)', transport: (baseUrl) => node.createGrpcWebTransport({ baseUrl, httpVersion: '1.1' }), clientStreaming: true },
  { name: 'connect-node gRPC-Web JSON (HTTP/2)', transport: (baseUrl) => node.createGrpcWebTransport({ baseUrl, httpVersion: '2', useBinaryFormat: false }), clientStreaming: true },
  { name: 'connect-node Connect JSON (HTTP/1.1)', transport: (baseUrl) => node.createConnectTransport({ baseUrl, httpVersion: '1.1', useBinaryFormat: false }), clientStreaming: true },
  { name: 'connect-node gRPC (HTTP/2, the control)', transport: (baseUrl) => node.createGrpcTransport({ baseUrl }), clientStreaming: true },
];

/** Wait until `n` handlers run (the calls reached the server and the queue let them in). */
async function running(s: WebServer, n: number): Promise<void> {
  for (let i = 0; i < 1000 && s.server.stats.running !== n; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(s.server.stats.running, n);
}

async function expectCode(p: Promise<unknown>, code: Code, what: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    const err = ConnectError.from(e);
    assert.equal(err.code, code, `${what}: ${err.message}`);
    return;
  }
  assert.fail(`${what}: no error`);
}

for (const f of FLAVOURS) {
  test(f.name, async (t) => {
    const s: WebServer = await startWebServer({ maxRunning: 2, maxWaiting: 0, maxReceiveMessageLength: 4096 });
    const greeter: any = createClient(Greeter as DescService, f.transport(s.url));
    const probe: any = createClient(Probe as DescService, f.transport(s.url));
    try {
      await t.test('unary', async () => {
        const r = await greeter.sayHello({ name: 'web' });
        assert.equal(r.message, 'hello web');
      });
      await t.test('every kind of field round trips', async () => {
        const req = { name: 'n', bigNumber: -9007199254740993n, rawData: new Uint8Array([0, 255, 7]), color: 2, innerList: [{ noteText: 'a' }], counts: { k: 3 }, unsignedBig: 18446744073709551615n, ratio: 0.5, flag: true };
        const r = await probe.echo(req);
        const e = r.echoed;
        assert.equal(e.name, 'n');
        assert.equal(e.bigNumber, -9007199254740993n);
        assert.deepEqual([...e.rawData], [0, 255, 7]);
        assert.equal(e.color, 2);
        assert.equal(e.innerList[0].noteText, 'a');
        assert.deepEqual(e.counts, { k: 3 });
        assert.equal(e.unsignedBig, 18446744073709551615n);
        assert.equal(e.ratio, 0.5);
        assert.equal(e.flag, true);
      });
      await t.test('server streaming', async () => {
        const got: string[] = [];
        for await (const m of probe.count({ count: 5 })) got.push(m.message);
        assert.deepEqual(got, ['reply 0', 'reply 1', 'reply 2', 'reply 3', 'reply 4']);
        // Zero replies: only the status.
        for await (const m of probe.count({ count: 0 })) assert.fail(`unexpected ${m.message}`);
      });
      if (f.clientStreaming) {
        await t.test('client streaming', async () => {
          async function* reqs() {
            for (const count of [1, 2, 3]) yield { count };
          }
          const r = await probe.sum(reqs());
          assert.equal(r.message, 'sum 6');
        });
      }
      await t.test('deadline: DEADLINE_EXCEEDED, the handler signal aborts', async () => {
        await expectCode(probe.sleep({ ms: 10_000 }, { timeoutMs: 100 }), Code.DeadlineExceeded, 'deadline');
        for (let i = 0; i < 100 && s.state.aborted.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
        assert.ok(s.state.aborted.length >= 1);
        s.state.aborted.length = 0;
      });
      await t.test('full queue: RESOURCE_EXHAUSTED', async () => {
        const ac = new AbortController();
        const sleeping = [0, 1].map(() => probe.sleep({ ms: 20_000 }, { signal: ac.signal }).catch(() => {}));
        await running(s, 2);
        await expectCode(greeter.sayHello({ name: 'late' }), Code.ResourceExhausted, 'queue');
        ac.abort();
        await Promise.all(sleeping);
        await running(s, 0);
        s.state.aborted.length = 0;
      });
      await t.test('a request message over maxReceiveMessageLength: RESOURCE_EXHAUSTED', async () => {
        await expectCode(greeter.sayHello({ name: 'x'.repeat(5000) }), Code.ResourceExhausted, 'too large');
      });
      await t.test('the client cancels: the handler signal aborts with CANCELLED', async () => {
        const ac = new AbortController();
        const p = probe.sleep({ ms: 10_000 }, { signal: ac.signal });
        await running(s, 1);
        ac.abort();
        await expectCode(p, Code.Canceled, 'cancel');
        for (let i = 0; i < 200 && s.state.aborted.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
        assert.deepEqual(s.state.aborted, [Status.CANCELLED]);
        s.state.aborted.length = 0;
      });
      await t.test('still serving', async () => {
        assert.equal((await greeter.sayHelloAgain({ name: 'end' })).message, 'hello end');
        assert.ok(s.state.intercepted.includes('/webtest.Probe/Count'), 'interceptors ran for every protocol');
      });
    } finally {
      await s.close();
    }
  });
}
