// A real browser: Debian's headless chromium loads a page served from one loopback origin, and the
// page (connect-web, bundled here with esbuild) calls the server on another origin with the
// Connect protocol (JSON and binary) and gRPC-Web (binary and JSON): the Greeter, a server-streaming method, a
// deadline, and a server that does not allow the page's origin (CORS). The results are read from
// the page's DOM (chromium --dump-dom, once the page has loaded: its load event waits for the
// calls, see /hold); a screenshot is kept in artifacts/web-browser.png
// (web-browser-h2.png for the same over https, where chromium speaks HTTP/2).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { fromRoot } from '../support/paths.js';
import { GREETER_PROTO, PROBE_PROTO, bufImage, cleanupImages, startWebServer } from './helpers.js';
import { ServerCredentials } from '../../src/index.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const profileDir = mkdtempSync(join(tmpdir(), 'edge-web-chromium-'));
after(() => {
  cleanupImages();
  rmSync(profileDir, { recursive: true, force: true });
});

// The page's script: every call's outcome goes into <pre id="out"> as JSON.
const PAGE_SCRIPT = `
import { createClient, ConnectError } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-web';
import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
const service = (b64, name) =>
  createFileRegistry(fromBinary(FileDescriptorSetSchema, Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)))).getService(name);
const Greeter = service(GREETER_IMAGE, 'helloworld.Greeter');
const Probe = service(PROBE_IMAGE, 'webtest.Probe');
const transports = {
  'connect-json': (baseUrl) => createConnectTransport({ baseUrl }),
  'connect-binary': (baseUrl) => createConnectTransport({ baseUrl, useBinaryFormat: true }),
  'grpc-web': (baseUrl) => createGrpcWebTransport({ baseUrl }),
  'grpc-web-json': (baseUrl) => createGrpcWebTransport({ baseUrl, useBinaryFormat: false }),
};
async function run() {
  const results = {};
  for (const [name, make] of Object.entries(transports)) {
    const r = (results[name] = {});
    try {
      const greeter = createClient(Greeter, make(SERVER_URL));
      const probe = createClient(Probe, make(SERVER_URL));
      r.hello = (await greeter.sayHello({ name: 'browser' })).message;
      r.stream = [];
      for await (const m of probe.count({ count: 3 })) r.stream.push(m.message);
      try {
        await probe.sleep({ ms: 10000 }, { timeoutMs: 200 });
        r.deadline = 'no error';
      } catch (e) {
        r.deadline = ConnectError.from(e).code;
      }
      try {
        await createClient(Greeter, make(REFUSING_URL)).sayHello({ name: 'x' });
        r.refused = 'answered';
      } catch (e) {
        r.refused = 'failed';
      }
    } catch (e) {
      r.error = String(e);
    }
  }
  document.getElementById('out').textContent = JSON.stringify(results);
  document.getElementById('state').textContent = 'done';
  // Lets the page's load event happen (see /hold): chromium dumps the DOM or shoots after it.
  await fetch('/report', { method: 'POST', body: 'done' });
}
run();
`;

function chromium(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      CHROMIUM!,
      [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', `--user-data-dir=${profileDir}`, ...args,
      ],
      { timeout: 60_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    ),
  );
}

const skip = CHROMIUM === undefined ? 'chromium not installed (apt-get install chromium)' : false;

test('headless chromium calls the Greeter and a server stream cross-origin with connect-web (Connect and gRPC-Web), HTTP/1.1', { skip }, () => inBrowser(false));

// Over TLS chromium negotiates HTTP/2 (ALPN h2): the web protocols on the HTTP/2 path, from a browser.
test('the same over https: chromium speaks HTTP/2 to the server (ALPN h2), CORS and all', { skip }, () => inBrowser(true));

async function inBrowser(tls: boolean): Promise<void> {
  // The page's own server: the HTML and the bundled script, on its own port (its own origin).
  const page = http.createServer();
  await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
  const pageOrigin = `http://127.0.0.1:${(page.address() as { port: number }).port}`;
  // Which path each request took: HTTP/1.1 connections, HTTP/2 streams.
  const seen = { http1: 0, http2: 0 };
  const s = await startWebServer({
    webOptions: { cors: { origins: [pageOrigin] } },
    wrapWeb: (w) => ({
      http1: (...a) => (seen.http1++, w.http1(...a)),
      stream: (...a) => (seen.http2++, w.stream(...a)),
    }),
  });
  let serverUrl = s.url;
  if (tls) {
    const fx = (n: string) => readFileSync(fromRoot('test/grpc/fixtures', n));
    const port = await s.server.bind('127.0.0.1:0', ServerCredentials.createSsl(fx('ca.pem'), [{ private_key: fx('server.key'), cert_chain: fx('server.pem') }], false));
    serverUrl = `https://localhost:${port}`;
  }
  const refusing = await startWebServer({ webOptions: { cors: { origins: ['http://elsewhere.example'] } } });
  try {
    const bundled = await build({
      stdin: { contents: PAGE_SCRIPT, resolveDir: fromRoot('.'), loader: 'js' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
      define: {
        SERVER_URL: JSON.stringify(serverUrl),
        REFUSING_URL: JSON.stringify(refusing.url),
        GREETER_IMAGE: JSON.stringify(readFileSync(bufImage(GREETER_PROTO)).toString('base64')),
        PROBE_IMAGE: JSON.stringify(readFileSync(bufImage(PROBE_PROTO)).toString('base64')),
      },
    });
    const js = bundled.outputFiles[0]!.contents;
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>grpc-edge from a browser</title>
<style>body{font:14px sans-serif;margin:1em}pre{white-space:pre-wrap;background:#eee;padding:.5em}</style></head>
<body><h1>grpc-edge, called from a page on ${pageOrigin}</h1><p>server ${serverUrl}: <span id="state">running</span></p>
<pre id="out"></pre><script type="module" src="/app.js"></script><img src="/hold" alt="" width="1" height="1"></body></html>`;
    // The image /hold is answered only once the script has reported (or after 30 s): the page's
    // load event, which --dump-dom and --screenshot wait for, comes after the calls, however slow
    // the machine is.
    let held: http.ServerResponse[] = [];
    const release = (): void => {
      for (const r of held) r.writeHead(204).end();
      held = [];
    };
    page.on('request', (req, res) => {
      if (req.url === '/app.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      else if (req.url === '/hold') {
        held.push(res);
        setTimeout(release, 30_000).unref();
      } else if (req.url === '/report') {
        req.resume();
        res.writeHead(204).end();
        release();
      } else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    });

    // The test's own CA is not the browser's: for the https case, chromium takes the certificate
    // as it is; localhost is mapped to the loopback address the server listens on.
    const extraFlags = tls ? ['--ignore-certificate-errors', '--host-resolver-rules=MAP localhost 127.0.0.1'] : [];
    const dom = await chromium([...extraFlags, '--dump-dom', `${pageOrigin}/`]);
    assert.match(dom, /<span id="state">done<\/span>/, dom);
    const out = /<pre id="out">([^<]*)<\/pre>/.exec(dom)![1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    const results = JSON.parse(out) as Record<string, Record<string, unknown>>;
    for (const name of ['connect-json', 'connect-binary', 'grpc-web', 'grpc-web-json']) {
      assert.deepEqual(results[name], {
        hello: 'hello browser',
        stream: ['reply 0', 'reply 1', 'reply 2'],
        deadline: 4, // Code.DeadlineExceeded
        refused: 'failed', // the other server does not allow this origin
      }, name);
    }
    assert.ok(s.state.intercepted.filter((m) => m === '/helloworld.Greeter/SayHello').length >= 3);
    if (tls) {
      assert.equal(seen.http1, 0, 'no HTTP/1.1 connection');
      assert.ok(seen.http2 >= 9, `${seen.http2} HTTP/2 streams`);
    } else {
      assert.equal(seen.http2, 0, 'no HTTP/2 stream');
      assert.ok(seen.http1 >= 1);
    }

    const dir = fromRoot('artifacts');
    mkdirSync(dir, { recursive: true });
    const png = join(dir, tls ? 'web-browser-h2.png' : 'web-browser.png');
    await chromium([...extraFlags, '--window-size=900,500', `--screenshot=${png}`, `${pageOrigin}/`]);
    assert.ok(statSync(png).size > 1000, 'a screenshot was written');
  } finally {
    await s.close();
    await refusing.close();
    await new Promise((r) => page.close(r));
  }
}
