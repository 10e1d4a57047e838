// buf curl (npm @bufbuild/buf, a Go client: connect-go's gRPC-Web and Connect implementations) with
// --protocol grpcweb and --protocol connect, over HTTP/1.1 and HTTP/2 (prior knowledge): unary,
// server streaming, and a server-side error (RESOURCE_EXHAUSTED from a full queue) in each.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { BUF, GREETER_PROTO, PROBE_PROTO, bufImage, cleanupImages, startWebServer } from './helpers.js';

after(cleanupImages);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function bufCurl(args: string[]): Promise<Run> {
  return new Promise((resolve) =>
    execFile(BUF, ['curl', ...args], { timeout: 15_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    ),
  );
}

/** buf curl prints each message as indented JSON: split the concatenated objects. */
const messages = (out: string): unknown[] => out.trim().split(/\n(?=\{)/).filter(Boolean).map((x) => JSON.parse(x));

for (const protocol of ['grpcweb', 'connect']) {
  for (const h2 of [false, true]) {
    test(`buf curl --protocol ${protocol}${h2 ? ' --http2-prior-knowledge' : ' (HTTP/1.1)'}`, async () => {
      const s = await startWebServer({ maxRunning: 1, maxWaiting: 0 });
      const common = ['--protocol', protocol, ...(h2 ? ['--http2-prior-knowledge'] : [])];
      try {
        const hello = await bufCurl([...common, '--schema', bufImage(GREETER_PROTO), '-d', '{"name":"pi"}', `${s.url}/helloworld.Greeter/SayHello`]);
        assert.equal(hello.code, 0, hello.stderr);
        assert.deepEqual(messages(hello.stdout), [{ message: 'hello pi' }]);

        const count = await bufCurl([...common, '--schema', bufImage(PROBE_PROTO), '-d', '{"count":3}', `${s.url}/webtest.Probe/Count`]);
        assert.equal(count.code, 0, count.stderr);
        assert.deepEqual(messages(count.stdout), [{ message: 'reply 0' }, { message: 'reply 1', index: 1 }, { message: 'reply 2', index: 2 }]);

        // The one running slot is taken (a call that sleeps until the server stops): the next
        // call is refused by the queue.
        const sleeping = bufCurl([...common, '--schema', bufImage(PROBE_PROTO), '-d', '{"ms":15000}', `${s.url}/webtest.Probe/Sleep`]);
        for (let i = 0; i < 1000 && s.server.stats.running === 0; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(s.server.stats.running, 1);
        const busy = await bufCurl([...common, '--schema', bufImage(GREETER_PROTO), '-d', '{"name":"late"}', `${s.url}/helloworld.Greeter/SayHello`]);
        assert.notEqual(busy.code, 0);
        assert.match(busy.stderr, /"code": "resource_exhausted"/);
        assert.match(busy.stderr, /job queue full/);
        await s.close();
        await sleeping;
      } finally {
        await s.close();
      }
    });
  }
}
