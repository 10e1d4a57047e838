// renderCacheMs: a burst of scrapes (pipelined HTTP/1.1 on a raw socket, and many node:http2 streams)
// within the TTL of the last render get that render's bytes, even though a grpc-js call moved the
// counters underneath; grpc_edge_observe_renders_total counts the renders; once the TTL is over the
// next scrape is rendered anew and shows the call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { connect } from 'node:net';
import { enableObserve } from '../../src/observe/index.js';
import type { Msg } from '../grpc/helpers.js';
import { startHarness } from '../grpc/helpers.js';
import { h2get, samples } from './helpers.js';

const unary = (client: any, text: string): Promise<Msg> =>
  new Promise((resolve, reject) => client.Unary({ text }, (err: Error | null, res: Msg) => (err ? reject(err) : resolve(res))));

const OK = 'grpc_server_handled_total{grpc_service="edge.test.TestService",grpc_method="Unary",grpc_type="unary",grpc_code="OK"}';
const RENDERS = 'grpc_edge_observe_renders_total';
const TTL = 3000;

/** `n` GETs of `path` pipelined on one HTTP/1.1 connection (the last says close): the bodies, in order. */
function pipelined(port: number, path: string, n: number): Promise<Buffer[]> {
  let req = '';
  for (let i = 0; i < n; i++) req += `GET ${path} HTTP/1.1\r\nHost: x\r\n${i === n - 1 ? 'Connection: close\r\n' : ''}\r\n`;
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(req));
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => {
      const all = Buffer.concat(chunks);
      const bodies: Buffer[] = [];
      let at = 0;
      while (at < all.length) {
        const end = all.indexOf('\r\n\r\n', at);
        if (end < 0) return reject(new Error(`truncated answer: ${JSON.stringify(all.subarray(at, at + 200).toString('latin1'))}`));
        const head = all.subarray(at, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 200')) return reject(new Error(`not a 200: ${head}`));
        const m = /\r\ncontent-length: *(\d+)/i.exec(head);
        if (m === null) return reject(new Error(`no content-length: ${head}`));
        bodies.push(all.subarray(end + 4, end + 4 + Number(m[1])));
        at = end + 4 + Number(m[1]);
      }
      resolve(bodies);
    });
  });
}

test('renderCacheMs: a burst of HTTP/1.1 pipelined and HTTP/2 scrapes within the TTL gets one render, a scrape after it a new one', async () => {
  const h = await startHarness({ Unary: (req: Msg) => ({ text: req.text }) });
  const observe = enableObserve(h.server, { renderCacheMs: TTL });
  const session = http2.connect(`http://127.0.0.1:${h.port}`);
  try {
    await unary(h.client, 'a');
    const first = await h2get(session, '/metrics');
    assert.equal(first.status, 200);
    const s1 = samples(first.body);
    assert.equal(s1.get(OK), 1);
    assert.equal(s1.get(RENDERS), 1);

    // A call underneath: the server's counters move, the cached page does not.
    await unary(h.client, 'b');
    assert.equal(observe.snapshot().methods.find((m) => m.method === 'Unary')!.handled[0], 2);
    const [h1Bodies, ...h2Answers] = await Promise.all([
      pipelined(h.port, '/metrics', 16),
      ...Array.from({ length: 16 }, () => h2get(session, '/metrics')),
    ]);
    assert.equal(h1Bodies.length, 16);
    for (const b of h1Bodies) assert.equal(b.toString('utf8'), first.body, 'HTTP/1.1 pipelined scrape: the same bytes');
    for (const a of h2Answers) {
      assert.equal(a.status, 200);
      assert.equal(a.body, first.body, 'HTTP/2 scrape: the same bytes');
    }

    // /status.json has its own cached render (the second render of all).
    const j1 = await h2get(session, '/status.json');
    assert.equal(JSON.parse(j1.body).calls.handled, 2);
    await unary(h.client, 'c');
    const j2 = await Promise.all([h2get(session, '/status.json'), pipelined(h.port, '/status.json', 4)]);
    assert.equal(j2[0].body, j1.body);
    for (const b of j2[1]) assert.equal(b.toString('utf8'), j1.body);

    // Past the TTL: rendered anew, with the calls made meanwhile (three renders in all).
    await new Promise((r) => setTimeout(r, TTL + 200));
    const after = samples((await h2get(session, '/metrics')).body);
    assert.equal(after.get(OK), 3);
    assert.equal(after.get(RENDERS), 3);
    const again = await pipelined(h.port, '/metrics', 2);
    assert.equal(samples(again[0]!.toString('utf8')).get(RENDERS), 3, 'and that render is reused in turn');
  } finally {
    session.close();
    observe.stop();
    await h.close();
  }
});

test('renderCacheMs: 0 renders every scrape', async () => {
  const h = await startHarness({ Unary: (req: Msg) => ({ text: req.text }) });
  const observe = enableObserve(h.server, { renderCacheMs: 0 });
  const session = http2.connect(`http://127.0.0.1:${h.port}`);
  try {
    const bodies = await pipelined(h.port, '/metrics', 3);
    assert.deepEqual(bodies.map((b) => samples(b.toString('utf8')).get(RENDERS)), [1, 2, 3]);
    await unary(h.client, 'a');
    assert.equal(samples((await h2get(session, '/metrics')).body).get(OK), 1);
  } finally {
    session.close();
    observe.stop();
    await h.close();
  }
});
