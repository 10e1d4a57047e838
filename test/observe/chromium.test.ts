// The status page in a real browser: Debian's chromium, headless, loads GET / from the server,
// runs the page's script (status.json every 2 s, virtual time), and the figures in the DOM match
// server.stats and the calls made. Screenshots (desktop and phone size) are kept as artifacts in
// build/artifacts/observe/.
//
// Plain http://, as a phone on the LAN would open it: HTTP/1.1, through the web protocols, and
// without them through src/observe's own HTTP/1.1.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Server, loadServices, webProtocols } from '../../src/index.js';
import { enableObserve } from '../../src/observe/index.js';
import { HealthImplementation } from '../../src/services/health.js';
import { descriptor, serviceNames } from '../../examples/greeter/generated/helloworld.js';
import { greeterHandlers } from '../../examples/greeter/greeter.js';
import { fromRoot } from '../support/paths.js';
import { CHROMIUM } from './helpers.js';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium)`;
const tmp = mkdtempSync(join(tmpdir(), 'edge-chromium-'));
const ARTIFACTS = fromRoot('build/artifacts/observe');
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Run headless chromium on `url` with `extra` flags; resolves with stdout. */
function chromium(url: string, extra: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmp, 'profile-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-dev-shm-usage',
    `--user-data-dir=${profile}`,
    // Virtual time: the page's 2 s refresh runs several times without the test waiting for it.
    '--virtual-time-budget=7000',
    ...extra,
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { maxBuffer: 16 << 20, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const text = (dom: string, id: string): string => {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(dom);
  if (m === null) throw new Error(`#${id} not in the DOM`);
  return m[1]!;
};

test('chromium renders the status page: figures from server.stats, refreshed, screenshots at desktop and phone size', { skip, timeout: 120_000 }, async () => {
  const server = new Server({ profile: 'pi-zero-2w', web: webProtocols() });
  server.addService(loadServices(descriptor)[serviceNames.Greeter]!, greeterHandlers);
  const health = new HealthImplementation({ 'helloworld.Greeter': 'SERVING' });
  health.addToServer(server);
  const port = await server.bind('127.0.0.1:0');
  const observe = enableObserve(server, { health, sampleIntervalMs: 500 });
  try {
    const def = protoLoader.loadSync(fromRoot('protos/helloworld.proto'), { keepCase: true });
    const pkg = grpc.loadPackageDefinition(def) as any;
    const client = new pkg.helloworld.Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    for (let i = 0; i < 7; i++) {
      await new Promise<void>((resolve, reject) => client.SayHello({ name: 'c' }, (err: Error | null) => (err ? reject(err) : resolve())));
    }
    client.close();
    health.setStatus('helloworld.Greeter', 'NOT_SERVING');
    while (server.stats.connections > 0) await new Promise((r) => setTimeout(r, 20));

    const url = `http://127.0.0.1:${port}/`;
    const dom = await chromium(url, ['--dump-dom']);
    const st = server.stats;
    assert.match(dom, /<title>grpc-edge status<\/title>/);
    assert.ok(Number(/data-updates="(\d+)"/.exec(dom)?.[1]) >= 2, 'the page refreshed itself from status.json more than once');
    assert.equal(text(dom, 'err'), '', 'no fetch error shown');
    assert.equal(text(dom, 'calls-total'), '7');
    assert.equal(text(dom, 'calls-errors'), '0');
    assert.equal(text(dom, 'queue-running'), String(st.running));
    assert.equal(text(dom, 'queue-max-running'), String(st.maxRunning));
    assert.equal(text(dom, 'queue-waiting'), String(st.waiting));
    assert.equal(text(dom, 'queue-max-waiting'), String(st.maxWaiting));
    assert.equal(text(dom, 'queue-rejected'), String(st.rejected));
    // Chromium's own connection (it sometimes opens a spare one next to it); the grpc-js one is gone.
    assert.match(text(dom, 'conns-open'), /^[12]$/);
    assert.equal(text(dom, 'profile'), 'pi-zero-2w');
    assert.equal(text(dom, 'mem-budget'), '128');
    assert.match(dom, /<td>helloworld\.Greeter<\/td><td class="bad">NOT_SERVING<\/td>/);
    assert.match(dom, /<td>grpc\.health\.v1\.Health<\/td><td class="ok">SERVING<\/td>/);
    assert.match(dom, /<td>OK<\/td><td class="ok">7<\/td>/);
    assert.match(dom, /<svg id="g-mem"[^>]*><path d="M[^"]+"/, 'the memory graph is drawn');

    mkdirSync(ARTIFACTS, { recursive: true });
    const desktop = join(ARTIFACTS, 'status-page.png');
    const phone = join(ARTIFACTS, 'status-page-phone.png');
    await chromium(url, [`--screenshot=${desktop}`, '--window-size=1280,900']);
    await chromium(url, [`--screenshot=${phone}`, '--window-size=390,844', '--force-device-scale-factor=2']);
    for (const f of [desktop, phone]) {
      assert.ok(statSync(f).size > 10_000, `${f} is a real screenshot`);
      assert.deepEqual([...readFileSync(f).subarray(1, 4)], [0x50, 0x4e, 0x47], 'PNG');
    }
  } finally {
    observe.stop();
    server.forceShutdown();
    await server.terminated;
  }
});

test('chromium loads the status page over http:// from a server without the web protocols (src/observe\'s own HTTP/1.1)', { skip, timeout: 120_000 }, async () => {
  const server = new Server({ profile: 'pi-zero-2w' });
  server.addService(loadServices(descriptor)[serviceNames.Greeter]!, greeterHandlers);
  const port = await server.bind('127.0.0.1:0');
  const observe = enableObserve(server, { sampleIntervalMs: 500 });
  try {
    const def = protoLoader.loadSync(fromRoot('protos/helloworld.proto'), { keepCase: true });
    const pkg = grpc.loadPackageDefinition(def) as any;
    const client = new pkg.helloworld.Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => client.SayHello({ name: 'c' }, (err: Error | null) => (err ? reject(err) : resolve())));
    }
    client.close();
    const dom = await chromium(`http://127.0.0.1:${port}/`, ['--dump-dom']);
    assert.match(dom, /<title>grpc-edge status<\/title>/);
    assert.ok(Number(/data-updates="(\d+)"/.exec(dom)?.[1]) >= 2, 'the page refreshed itself from status.json more than once');
    assert.equal(text(dom, 'err'), '', 'no fetch error shown');
    assert.equal(text(dom, 'calls-total'), '3');
    assert.equal(text(dom, 'profile'), 'pi-zero-2w');
    // Only HTTP/1.1 streams came from chromium: the HTTP/2 streams are the grpc-js calls'.
    assert.equal(observe.snapshot().http2.streamsOpened, 3);
  } finally {
    observe.stop();
    server.forceShutdown();
    await server.terminated;
  }
});
