// The entry of a bundle that test/build/bundle-protobuf.test.ts builds: it calls each part of
// protobufjs/light that bundles leave out (scripts/build.mjs, protobufStubs) and prints, as one
// JSON line, what each call did: every one must throw the stub's error, at once, not half-work.
import protobuf from 'protobufjs/light.js';

const out: Record<string, string> = {};
function attempt(name: string, fn: () => unknown): void {
  try {
    const r = fn();
    out[name] = r instanceof Promise ? 'promise' : `returned ${typeof r}`;
    if (r instanceof Promise) r.catch(() => {});
  } catch (err) {
    out[name] = (err as Error).message;
  }
}
const descriptor = { nested: { p: { nested: { M: { fields: { a: { type: 'string', id: 1 } } }, S: { methods: { Do: { requestType: 'M', responseType: 'M' } } } } } } };
const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
attempt('Root.load', () => new protobuf.Root().load('x.proto', () => {}));
attempt('Root.loadSync', () => new protobuf.Root().loadSync('x.proto'));
attempt('protobuf.load', () => protobuf.load('x.proto', () => {}));
attempt('protobuf.loadSync', () => protobuf.loadSync('x.proto'));
attempt('Service.create', () => root.lookupService('p.S').create(() => {}));
attempt('Type.verify', () => root.lookupType('p.M').verify({ a: 'x' }));
console.log('EDGE-PB ' + JSON.stringify(out));
