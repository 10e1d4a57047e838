// Shared by the flow-control stall tests (send-stall, stall-shed, fair-queue, parking): raw HTTP/2
// clients that give the server no window and answer PINGs, the ServerStream calls they open, and a
// handler that writes until its call ends.
import type { CallContext, ServerWriter } from '../../src/index.js';
import { Flag, FrameType, SettingId } from '../../src/http2/frame/constants.js';
import { H2Client, rawFrame } from '../support/h2-client.js';
import { grpcMessage } from '../grpc/raw-h2.js';
import type { Msg } from '../grpc/helpers.js';

/** One request message, test.proto Msg { text, count }, with its 5-octet prefix. */
export function msgRequest(text: string, count = 0): Buffer {
  const t = Buffer.from(text);
  return grpcMessage(Buffer.concat([Buffer.from([0x0a, t.length]), t, Buffer.from([0x10, count])]));
}

/** The request headers of a call to edge.test.TestService/`method`, then `extra` name/value pairs. */
export function requestHeaders(method: string, extra: string[] = []): string[] {
  return [
    ':method', 'POST', ':scheme', 'http', ':path', `/edge.test.TestService/${method}`, ':authority', 'localhost',
    'content-type', 'application/grpc', 'te', 'trailers', ...extra,
  ];
}

/** Open a ServerStream call on stream `id`, its request sent whole with END_STREAM. */
export function openCall(c: H2Client, id: number, text = 'x', count = 0, extra: string[] = []): void {
  c.send(c.headersFrame(id, requestHeaders('ServerStream', extra)), rawFrame(FrameType.DATA, Flag.END_STREAM, id, msgRequest(text, count)));
}

/** A client that gives the server no stream window (until it sends WINDOW_UPDATE) and answers PINGs. */
export async function zeroWindowClient(port: number): Promise<H2Client> {
  const c = await H2Client.connect(port, { settings: [SettingId.INITIAL_WINDOW_SIZE, 0] });
  c.autoPong = true;
  return c;
}

/** A zero-window client with `calls` ServerStream calls open on streams 1, 3, ... */
export async function neverReader(port: number, calls = 1): Promise<H2Client> {
  const c = await zeroWindowClient(port);
  for (let id = 1; id < 2 * calls; id += 2) openCall(c, id);
  return c;
}

/** A ServerStream handler that writes 4 KB messages until its call ends, counting starts and aborts. */
export function endlessStream() {
  const seen = { started: 0, aborted: 0 };
  const ServerStream = async (_req: Msg, call: ServerWriter<Msg>, ctx: CallContext) => {
    seen.started++;
    ctx.signal.addEventListener('abort', () => seen.aborted++);
    const data = Buffer.alloc(4096, 1);
    while (!ctx.signal.aborted) await call.write({ text: 'm', data } as Msg);
  };
  return { seen, ServerStream };
}
