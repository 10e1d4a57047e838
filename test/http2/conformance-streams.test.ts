// HTTP/2 conformance, streams and flow control (RFC 9113 sections 5.1-5.3, 6.1, 6.2, 6.9, 6.10):
// raw bytes from a raw socket against the echo server, one connection per test.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/http2/errors.js';
import { Flag, FrameType, SettingId, MAX_WINDOW_SIZE } from '../../src/http2/frame/constants.js';
import {
  type H2Client,
  GET_HEADERS,
  POST_HEADERS,
  headersWithBlock,
  literalBlock,
  priorityFields,
  rawFrame,
  settingsPayload,
  u32,
} from '../support/h2-client.js';
import { echoFixture } from '../support/echo-fixture.js';

const { PROTOCOL_ERROR, FRAME_SIZE_ERROR, FLOW_CONTROL_ERROR, STREAM_CLOSED, REFUSED_STREAM, CANCEL } = ErrorCode;

const { run } = echoFixture();

const data = (id: number, body: string | Buffer, end = false) =>
  rawFrame(FrameType.DATA, end ? Flag.END_STREAM : 0, id, typeof body === 'string' ? Buffer.from(body) : body);
const continuation = (id: number, block: Buffer, endHeaders: boolean) =>
  rawFrame(FrameType.CONTINUATION, endHeaders ? Flag.END_HEADERS : 0, id, block);
const windowUpdate = (id: number, n: number) => rawFrame(FrameType.WINDOW_UPDATE, 0, id, u32(n));
const settings = (pairs: number[]) => rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload(pairs));

/** Collect DATA payloads on `id` until `total` octets arrived. */
async function readData(c: H2Client, id: number, total: number): Promise<Buffer[]> {
  const got: Buffer[] = [];
  let n = 0;
  while (n < total) {
    const f = await c.expectFrame(FrameType.DATA, (d) => d.streamId === id && d.data.length > 0);
    got.push(f.data);
    n += f.data.length;
  }
  return got;
}

describe('5.1 stream states', () => {
  // idle: "Receiving any frame other than HEADERS or PRIORITY on a stream in this state MUST be
  // treated as a connection error (Section 5.4.1) of type PROTOCOL_ERROR."
  test('idle: DATA -> PROTOCOL_ERROR', run(async (c) => {
    c.send(data(1, 'x', true));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  test('idle: RST_STREAM -> PROTOCOL_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.RST_STREAM, 0, 1, u32(CANCEL)));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  test('idle: WINDOW_UPDATE -> PROTOCOL_ERROR', run(async (c) => {
    c.send(windowUpdate(1, 100));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  // "RST_STREAM frames MUST NOT be sent for a stream in the "idle" state." (5.1): a frame that
  // would be a stream error elsewhere is a connection error on an idle stream ("an endpoint MAY
  // choose to treat a stream error as a connection error", 5.4.1), never a RST_STREAM.
  const noRst = (c: H2Client) => {
    const r = c.frames.find((f) => f.type === FrameType.RST_STREAM);
    assert.equal(r, undefined, `RST_STREAM on an idle stream; received: ${c.history()}`);
  };

  test('idle: WINDOW_UPDATE with increment 0 -> connection PROTOCOL_ERROR, no RST_STREAM', run(async (c) => {
    c.send(windowUpdate(1, 0));
    await c.expectConnectionError(PROTOCOL_ERROR);
    noRst(c);
  }));

  test('idle (even id): WINDOW_UPDATE with increment 0 -> connection PROTOCOL_ERROR, no RST_STREAM', run(async (c) => {
    await c.expectAlive(1);
    c.send(windowUpdate(2, 0));
    await c.expectConnectionError(PROTOCOL_ERROR);
    noRst(c);
  }));

  test('idle, above the last stream id: WINDOW_UPDATE with increment 0 -> connection PROTOCOL_ERROR', run(async (c) => {
    await c.expectAlive(1);
    c.send(windowUpdate(5, 0));
    await c.expectConnectionError(PROTOCOL_ERROR);
    noRst(c);
  }));

  test('idle: PRIORITY of 4 octets -> connection FRAME_SIZE_ERROR, no RST_STREAM', run(async (c) => {
    c.send(rawFrame(FrameType.PRIORITY, 0, 1, Buffer.from([0, 0, 0, 0])));
    await c.expectConnectionError(FRAME_SIZE_ERROR);
    noRst(c);
  }));

  test('idle: PRIORITY depending on itself -> connection PROTOCOL_ERROR, no RST_STREAM', run(async (c) => {
    c.send(rawFrame(FrameType.PRIORITY, 0, 3, priorityFields(3)));
    await c.expectConnectionError(PROTOCOL_ERROR);
    noRst(c);
  }));

  test('closed: WINDOW_UPDATE with increment 0 is a stream error (RST_STREAM allowed there)', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(windowUpdate(1, 0));
    await c.expectStreamError(1, PROTOCOL_ERROR, 3);
  }));

  test('idle: CONTINUATION -> PROTOCOL_ERROR', run(async (c) => {
    c.send(continuation(1, c.encoder.encode(GET_HEADERS), true));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  // half-closed (remote): "If an endpoint receives additional frames, other than WINDOW_UPDATE,
  // PRIORITY, or RST_STREAM, for a stream that is in this state, it MUST respond with a stream
  // error (Section 5.4.2) of type STREAM_CLOSED." (once the response is out the stream is closed,
  // where the same frames are a connection error of type STREAM_CLOSED: either is accepted)
  test('half-closed (remote): DATA -> STREAM_CLOSED', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: true }), data(1, 'late'));
    await c.expectStreamOrConnectionError(1, STREAM_CLOSED);
  }));

  test('half-closed (remote): HEADERS -> STREAM_CLOSED', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: true }));
    c.send(c.headersFrame(1, ['x-trailer', 'late'], { endStream: true }));
    await c.expectStreamOrConnectionError(1, STREAM_CLOSED);
  }));

  // "A CONTINUATION frame MUST be preceded by a HEADERS, PUSH_PROMISE or CONTINUATION frame without
  // the END_HEADERS flag set. A recipient that observes violation of this rule MUST respond with a
  // connection error (Section 5.4.1) of type PROTOCOL_ERROR." (6.10)
  test('half-closed (remote): CONTINUATION -> PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: true }));
    c.send(continuation(1, c.encoder.encode(['x-a', 'b']), true));
    await c.expectConnectionError([PROTOCOL_ERROR, STREAM_CLOSED]);
  }));

  // closed: "An endpoint that receives any frame other than PRIORITY after receiving a RST_STREAM
  // MUST treat that as a stream error (Section 5.4.2) of type STREAM_CLOSED." A stream error: one
  // RST_STREAM(STREAM_CLOSED), the connection goes on.
  test('closed (client RST_STREAM): DATA -> RST_STREAM(STREAM_CLOSED), the connection goes on', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(FrameType.RST_STREAM, 0, 1, u32(CANCEL)));
    c.send(data(1, 'late'));
    await c.expectStreamError(1, STREAM_CLOSED, 3);
  }));

  test('closed (client RST_STREAM): HEADERS -> RST_STREAM(STREAM_CLOSED), the connection goes on', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(FrameType.RST_STREAM, 0, 1, u32(CANCEL)));
    c.send(c.headersFrame(1, ['x-trailer', 'late'], { endStream: true }));
    await c.expectStreamError(1, STREAM_CLOSED, 3);
    // the late field block went through the HPACK decoder: the tables are still in sync
    await c.expectAlive(5);
  }));

  test('closed (client RST_STREAM): WINDOW_UPDATE -> RST_STREAM(STREAM_CLOSED), the connection goes on', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(FrameType.RST_STREAM, 0, 1, u32(CANCEL)));
    c.send(windowUpdate(1, 100));
    await c.expectStreamError(1, STREAM_CLOSED, 3);
  }));

  // "To avoid looping, an endpoint MUST NOT send a RST_STREAM in response to a RST_STREAM frame."
  // (5.4.2), and after our RST_STREAM(STREAM_CLOSED) further frames are ignored ("An endpoint MUST
  // ignore frames that it receives on closed streams after it has sent a RST_STREAM frame", 5.1)
  test('closed (client RST_STREAM): a second RST_STREAM and PRIORITY are ignored; one RST_STREAM for many DATA', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(FrameType.RST_STREAM, 0, 1, u32(CANCEL)));
    c.send(rawFrame(FrameType.RST_STREAM, 0, 1, u32(CANCEL)), rawFrame(FrameType.PRIORITY, 0, 1, priorityFields(0)));
    await c.expectNoFrameBeforePingAck(FrameType.RST_STREAM);
    c.send(data(1, 'late'), data(1, 'later'), data(1, 'latest', true));
    await c.expectRst(1, STREAM_CLOSED);
    await c.expectNoFrameBeforePingAck(FrameType.RST_STREAM);
    await c.expectNoFrameBeforePingAck(FrameType.GOAWAY);
    await c.expectAlive(3);
  }));

  test('closed (client RST_STREAM): CONTINUATION -> PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(FrameType.RST_STREAM, 0, 1, u32(CANCEL)));
    c.send(continuation(1, c.encoder.encode(['x-a', 'b']), true));
    await c.expectConnectionError([PROTOCOL_ERROR, STREAM_CLOSED]);
  }));

  // closed: "an endpoint that receives any frames after receiving a frame with the END_STREAM flag
  // set MUST treat that as a connection error (Section 5.4.1) of type STREAM_CLOSED"
  test('closed (both END_STREAM): DATA -> STREAM_CLOSED', run(async (c) => {
    await c.expectAlive(1);
    c.send(data(1, 'late'));
    await c.expectStreamOrConnectionError(1, STREAM_CLOSED);
  }));

  test('closed (both END_STREAM): HEADERS -> STREAM_CLOSED', run(async (c) => {
    await c.expectAlive(1);
    c.send(c.headersFrame(1, GET_HEADERS, { endStream: true }));
    await c.expectStreamOrConnectionError(1, STREAM_CLOSED);
  }));

  // "A server can send a complete response prior to the client sending an entire request ... a
  // server MAY request that the client abort transmission of a request without error by sending
  // a RST_STREAM with an error code of NO_ERROR" (8.1), and "An endpoint MUST ignore frames that it
  // receives on closed streams after it has sent a RST_STREAM frame." (5.1)
  test('a request body arriving after the complete response and RST_STREAM(NO_ERROR) is ignored', run(async (c) => {
    c.send(c.headersFrame(1, GET_HEADERS, { endStream: false }));
    const r = await c.expectResponse(1);
    assert.equal(r.status, '200');
    await c.expectRst(1, ErrorCode.NO_ERROR);
    c.send(data(1, 'late body'), data(1, 'more', true), windowUpdate(1, 100));
    await c.expectNoFrameBeforePingAck(FrameType.GOAWAY);
    await c.expectAlive(3);
  }));

  // "WINDOW_UPDATE or RST_STREAM frames can be received in this state for a short period after a
  // DATA or HEADERS frame containing an END_STREAM flag is sent ... An endpoint MUST ignore
  // frames that it receives on closed streams after it has sent a RST_STREAM frame"
  test('closed: WINDOW_UPDATE, RST_STREAM and PRIORITY just after the response are ignored', run(async (c) => {
    await c.expectAlive(1);
    c.send(windowUpdate(1, 10), rawFrame(FrameType.RST_STREAM, 0, 1, u32(CANCEL)), rawFrame(FrameType.PRIORITY, 0, 1, priorityFields(0)));
    await c.expectNoFrameBeforePingAck(FrameType.GOAWAY);
    await c.expectAlive(3);
  }));
});

describe('5.1.1 stream identifiers', () => {
  // "Streams initiated by a client MUST use odd-numbered stream identifiers" / "An endpoint that
  // receives an unexpected stream identifier MUST respond with a connection error (Section 5.4.1)
  // of type PROTOCOL_ERROR."
  test('HEADERS on an even stream id: PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(2, GET_HEADERS, { endStream: true }));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  // "The identifier of a newly established stream MUST be numerically greater than all streams
  // that the initiating endpoint has opened or reserved."
  test('HEADERS on a stream id lower than a previous one: PROTOCOL_ERROR', run(async (c) => {
    await c.expectAlive(5);
    c.send(c.headersFrame(3, GET_HEADERS, { endStream: true }));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  test('the largest stream id, 2^31-1, is usable', run(async (c) => {
    await c.expectAlive(1);
    await c.expectAlive(0x7fffffff);
  }));

  test('stream ids may skip values', run(async (c) => {
    await c.expectAlive(1);
    await c.expectAlive(101);
  }));
});

describe('5.1.2 stream concurrency', () => {
  // "An endpoint that receives a HEADERS frame that causes its advertised concurrent stream limit to
  // be exceeded MUST treat this as a stream error (Section 5.4.2) of type PROTOCOL_ERROR or
  // REFUSED_STREAM."
  test('HEADERS past SETTINGS_MAX_CONCURRENT_STREAMS: RST_STREAM REFUSED_STREAM or PROTOCOL_ERROR', run(async (c) => {
    const max = c.serverSetting(SettingId.MAX_CONCURRENT_STREAMS);
    assert.ok(max !== undefined && max < 10000, `server advertised SETTINGS_MAX_CONCURRENT_STREAMS=${max}`);
    const frames: Buffer[] = [];
    for (let i = 0; i < max; i++) frames.push(c.headersFrame(1 + 2 * i, POST_HEADERS, { endStream: false }));
    const over = 1 + 2 * max;
    frames.push(c.headersFrame(over, POST_HEADERS, { endStream: false }));
    c.send(Buffer.concat(frames));
    await c.expectRst(over, [REFUSED_STREAM, PROTOCOL_ERROR]);
    // the open streams are still served, and closing one makes room for a new one
    c.send(data(1, 'one', true));
    const r = await c.expectResponse(1);
    assert.equal(r.body.toString(), 'one');
    await c.expectAlive(over + 2);
  }));
});

describe('5.3.1 stream dependencies', () => {
  // "A stream cannot depend on itself. An endpoint MUST treat this as a stream error
  // (Section 5.4.2) of type PROTOCOL_ERROR."
  test('HEADERS depending on its own stream: stream error PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false, priority: priorityFields(1) }));
    await c.expectStreamError(1, PROTOCOL_ERROR, 3);
  }));

  test('PRIORITY depending on its own stream: stream error PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(FrameType.PRIORITY, 0, 1, priorityFields(1)));
    await c.expectStreamError(1, PROTOCOL_ERROR, 3);
  }));
});

describe('6.1 DATA', () => {
  // "If a DATA frame is received whose Stream Identifier field is 0x00, the recipient MUST respond
  // with a connection error (Section 5.4.1) of type PROTOCOL_ERROR."
  test('DATA on stream 0: PROTOCOL_ERROR', run(async (c) => {
    c.send(data(0, 'x'));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  // "If a DATA frame is received whose stream is not in the "open" or "half-closed (local)" state,
  // the recipient MUST respond with a stream error (Section 5.4.2) of type STREAM_CLOSED."
  test('DATA after END_STREAM in the same write: STREAM_CLOSED', run(async (c) => {
    c.send(Buffer.concat([c.headersFrame(1, POST_HEADERS, { endStream: false }), data(1, 'a', true), data(1, 'b')]));
    await c.expectStreamOrConnectionError(1, STREAM_CLOSED);
  }));

  // "If the length of the padding is the length of the frame payload or greater, the recipient
  // MUST treat this as a connection error (Section 5.4.1) of type PROTOCOL_ERROR."
  test('DATA with padding as long as the payload: PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(FrameType.DATA, Flag.PADDED | Flag.END_STREAM, 1, Buffer.from([3, 0x61, 0x62])));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  test('padded DATA is accepted and the padding removed', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(FrameType.DATA, Flag.PADDED, 1, Buffer.from([4, 0x61, 0x62, 0, 0, 0, 0])));
    c.send(rawFrame(FrameType.DATA, Flag.PADDED | Flag.END_STREAM, 1, Buffer.from([2, 0x63, 0, 0])));
    const r = await c.expectResponse(1);
    assert.equal(r.body.toString(), 'abc');
  }));

  // "The entire DATA frame payload is included in flow control, including the Pad Length and
  // Padding fields if present." The client keeps to the stream window here, so the request only
  // completes if the server hands the padding's share of the window back too.
  test('padding counts against flow control and its window is handed back', run(async (c) => {
    const initial = c.serverSetting(SettingId.INITIAL_WINDOW_SIZE) ?? 65535;
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    const padded = rawFrame(FrameType.DATA, Flag.PADDED, 1, Buffer.concat([Buffer.from([254, 0x78]), Buffer.alloc(254)]));
    const n = Math.ceil(initial / 256) + 100; // more than one window's worth
    let sent = 0;
    let granted = 0;
    for (let i = 0; i < n; i++) {
      while (initial + granted - sent < 256) {
        const wu = await c.expectFrame(FrameType.WINDOW_UPDATE, (f) => f.streamId === 1);
        granted += wu.increment;
      }
      c.send(padded);
      sent += 256;
    }
    c.send(data(1, '', true));
    const r = await c.expectResponse(1, 10000);
    assert.equal(r.body.toString(), 'x'.repeat(n));
  }));

  test('an empty DATA frame with END_STREAM ends the request', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), data(1, 'xyz'), data(1, '', true));
    const r = await c.expectResponse(1);
    assert.equal(r.body.toString(), 'xyz');
  }));
});

describe('6.2 HEADERS', () => {
  // "A HEADERS frame without the END_HEADERS flag set MUST be followed by a CONTINUATION frame for
  // the same stream. A receiver MUST treat the receipt of any other type of frame or a frame on a
  // different stream as a connection error (Section 5.4.1) of type PROTOCOL_ERROR."
  test('HEADERS without END_HEADERS followed by DATA: PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false, endHeaders: false }), data(1, 'x', true));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  // "If a HEADERS frame is received whose Stream Identifier field is 0x00, the recipient MUST
  // respond with a connection error (Section 5.4.1) of type PROTOCOL_ERROR."
  test('HEADERS on stream 0: PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(0, GET_HEADERS, { endStream: true }));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  // "Padding that exceeds the size remaining for the field block fragment MUST be treated as a
  // PROTOCOL_ERROR."
  test('HEADERS with padding longer than the rest of the payload: PROTOCOL_ERROR', run(async (c) => {
    const block = c.encoder.encode(GET_HEADERS);
    const payload = Buffer.concat([Buffer.from([block.length + 1]), block]);
    c.send(rawFrame(FrameType.HEADERS, Flag.PADDED | Flag.END_HEADERS | Flag.END_STREAM, 1, payload));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  test('padded HEADERS with priority fields are accepted', run(async (c) => {
    c.send(headersWithBlock(1, c.encoder.encode(GET_HEADERS), { endStream: true, padLength: 9, priority: priorityFields(0, 256, true) }));
    const r = await c.expectResponse(1);
    assert.equal(r.status, '200');
  }));
});

describe('6.9 WINDOW_UPDATE', () => {
  // "A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a flow-control window
  // increment of 0 as a stream error (Section 5.4.2) of type PROTOCOL_ERROR; errors on the
  // connection flow-control window MUST be treated as a connection error (Section 5.4.1)."
  test('WINDOW_UPDATE of 0 on the connection: PROTOCOL_ERROR', run(async (c) => {
    c.send(windowUpdate(0, 0));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  test('WINDOW_UPDATE of 0 on a stream: stream error PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), windowUpdate(1, 0));
    await c.expectStreamError(1, PROTOCOL_ERROR, 3);
  }));

  // "A WINDOW_UPDATE frame with a length other than 4 octets MUST be treated as a connection error
  // (Section 5.4.1) of type FRAME_SIZE_ERROR."
  test('WINDOW_UPDATE of 3 octets: FRAME_SIZE_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.from([0, 0, 1])));
    await c.expectConnectionError(FRAME_SIZE_ERROR);
  }));

  // "Reserved: A reserved 1-bit field. The semantics of this bit are undefined." / "The frame's
  // payload is a 31-bit unsigned integer" (6.9; 4.1: reserved bits "MUST be ignored when receiving")
  test('the reserved bit of a WINDOW_UPDATE increment is ignored', run(async (c) => {
    c.send(rawFrame(FrameType.WINDOW_UPDATE, 0, 0, u32(0x80000000 | 1000)));
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), rawFrame(FrameType.WINDOW_UPDATE, 0, 1, u32(0x80000000 | 1000)));
    c.send(data(1, 'ok', true));
    const r = await c.expectResponse(1);
    assert.equal(r.body.toString(), 'ok');
  }));

  test('WINDOW_UPDATE on the connection and on an open stream is accepted', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), windowUpdate(0, 1000), windowUpdate(1, 1000));
    c.send(data(1, 'ok', true));
    const r = await c.expectResponse(1);
    assert.equal(r.body.toString(), 'ok');
  }));

  // "A sender MUST NOT allow a flow-control window to exceed 2^31-1 octets. If a sender receives a
  // WINDOW_UPDATE that causes a flow-control window to exceed this maximum, it MUST terminate
  // either the stream or the connection, as appropriate. For streams, the sender sends a
  // RST_STREAM with an error code of FLOW_CONTROL_ERROR; for the connection, a GOAWAY frame with
  // an error code of FLOW_CONTROL_ERROR is sent."
  test('connection window past 2^31-1: FLOW_CONTROL_ERROR', run(async (c) => {
    c.send(windowUpdate(0, MAX_WINDOW_SIZE));
    await c.expectConnectionError(FLOW_CONTROL_ERROR);
  }));

  test('connection window past 2^31-1 in two steps: FLOW_CONTROL_ERROR', run(async (c) => {
    c.send(windowUpdate(0, MAX_WINDOW_SIZE - 65535), windowUpdate(0, 1));
    await c.expectConnectionError(FLOW_CONTROL_ERROR);
  }));

  test('stream window past 2^31-1: stream error FLOW_CONTROL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), windowUpdate(1, MAX_WINDOW_SIZE));
    await c.expectStreamError(1, FLOW_CONTROL_ERROR, 3);
  }));

  // "A sender MUST NOT send a flow-controlled frame with a length that exceeds the space available
  // in either of the flow-control windows advertised by the receiver."
  test('the server respects a stream window of 1 octet', run(async (c) => {
    c.post(1, Buffer.from('hello'));
    const first = await c.expectFrame(FrameType.DATA, (d) => d.streamId === 1 && d.data.length > 0);
    assert.equal(first.data.toString(), 'h');
    await c.expectNoFrameBeforePingAck(FrameType.DATA, (d) => d.streamId === 1 && d.data.length > 0);
    c.send(windowUpdate(1, 4));
    const rest = await readData(c, 1, 4);
    assert.equal(Buffer.concat(rest).toString(), 'ello');
  }, { settings: [SettingId.INITIAL_WINDOW_SIZE, 1] }));

  // "When the value of SETTINGS_INITIAL_WINDOW_SIZE changes, a receiver MUST adjust the size of all
  // stream flow-control windows that it maintains by the difference between the new value and the
  // old value."
  test('a new SETTINGS_INITIAL_WINDOW_SIZE applies to open streams', run(async (c) => {
    c.post(1, Buffer.from('hello'));
    await c.expectNoFrameBeforePingAck(FrameType.DATA, (d) => d.streamId === 1 && d.data.length > 0);
    c.send(settings([SettingId.INITIAL_WINDOW_SIZE, 3]));
    assert.equal(Buffer.concat(await readData(c, 1, 3)).toString(), 'hel');
    await c.expectNoFrameBeforePingAck(FrameType.DATA, (d) => d.streamId === 1 && d.data.length > 0);
    c.send(settings([SettingId.INITIAL_WINDOW_SIZE, 5]));
    assert.equal(Buffer.concat(await readData(c, 1, 2)).toString(), 'lo');
  }, { settings: [SettingId.INITIAL_WINDOW_SIZE, 0] }));

  // "A change to SETTINGS_INITIAL_WINDOW_SIZE can cause the available space in a flow-control
  // window to become negative. A sender MUST track the negative flow-control window and MUST NOT
  // send new flow-controlled frames until it receives WINDOW_UPDATE frames that cause the
  // flow-control window to become positive."
  test('a stream window made negative by SETTINGS is tracked', run(async (c) => {
    c.post(1, Buffer.from('hello world!'));
    assert.equal(Buffer.concat(await readData(c, 1, 5)).toString(), 'hello');
    c.send(settings([SettingId.INITIAL_WINDOW_SIZE, 3])); // window 3 - 5 = -2
    await c.expectFrame(FrameType.SETTINGS, (f) => f.ack);
    c.send(windowUpdate(1, 2)); // window 0
    await c.expectNoFrameBeforePingAck(FrameType.DATA, (d) => d.streamId === 1 && d.data.length > 0);
    c.send(windowUpdate(1, 7));
    assert.equal(Buffer.concat(await readData(c, 1, 7)).toString(), ' world!');
  }, { settings: [SettingId.INITIAL_WINDOW_SIZE, 5] }));

  // "An endpoint MUST treat a change to SETTINGS_INITIAL_WINDOW_SIZE that causes any flow-control
  // window to exceed the maximum size as a connection error (Section 5.4.1) of type
  // FLOW_CONTROL_ERROR."
  test('SETTINGS_INITIAL_WINDOW_SIZE pushing an open stream past 2^31-1: FLOW_CONTROL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), windowUpdate(1, MAX_WINDOW_SIZE - 65535));
    c.send(settings([SettingId.INITIAL_WINDOW_SIZE, 65536]));
    await c.expectConnectionError(FLOW_CONTROL_ERROR);
  }));

  // "A receiver MAY respond with a stream error (Section 5.4.2) or connection error (Section 5.4.1)
  // of type FLOW_CONTROL_ERROR if it is unable to accept a frame." A client that ignores the
  // stream window (here the echo cannot send anything back, so it stops handing window back) must
  // not make the server buffer without bound.
  test('DATA beyond the stream window: FLOW_CONTROL_ERROR', run(async (c) => {
    const window = c.serverSetting(SettingId.INITIAL_WINDOW_SIZE) ?? 65535;
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    const chunk = data(1, Buffer.alloc(16384, 'f'));
    const frames = Math.ceil((window + 256 * 1024) / 16384) + 1;
    for (let i = 0; i < frames && !c.closed; i++) c.send(chunk);
    await c.expectStreamOrConnectionError(1, FLOW_CONTROL_ERROR);
  }, { settings: [SettingId.INITIAL_WINDOW_SIZE, 0] }));

  // The connection window starts at 65535 and only a WINDOW_UPDATE on stream 0 raises it
  // (SETTINGS_INITIAL_WINDOW_SIZE applies to streams only).
  test('the server respects the connection window', run(async (c) => {
    c.send(settings([SettingId.INITIAL_WINDOW_SIZE, 1 << 20]));
    await c.expectFrame(FrameType.SETTINGS, (f) => f.ack);
    c.post(1, Buffer.alloc(30000, 'a'));
    assert.equal(Buffer.concat(await readData(c, 1, 30000)).length, 30000);
    // we may send 40000 more only when the server has handed back enough connection window
    await c.waitUntil(() => 65535 + c.connWindowIncrements >= 70000, 'the server to open its connection window');
    c.post(3, Buffer.alloc(40000, 'b'));
    const left = 65535 - 30000;
    const first = await c.expectFrame(FrameType.DATA, (d) => d.streamId === 3 && d.data.length > 0);
    await c.expectNoFrameBeforePingAck(FrameType.GOAWAY);
    let received = first.data.length;
    for (const f of c.frames) if (f.type === FrameType.DATA && f.streamId === 3) received += f.data.length;
    assert.ok(received <= left, `received ${received} octets on stream 3 with ${left} left in the connection window`);
    c.send(windowUpdate(0, 40000));
    const rest = await readData(c, 3, 40000 - first.data.length);
    assert.equal(first.data.length + Buffer.concat(rest).length, 40000);
  }));
});

describe('6.10 CONTINUATION', () => {
  const split = (block: Buffer): [Buffer, Buffer, Buffer] => {
    const a = Math.floor(block.length / 3);
    return [block.subarray(0, a), block.subarray(a, 2 * a), block.subarray(2 * a)];
  };

  test('HEADERS followed by two CONTINUATION frames is one header block', run(async (c) => {
    const [a, b, d] = split(c.encoder.encode([...GET_HEADERS, 'x-long', 'v'.repeat(100)]));
    c.send(headersWithBlock(1, a, { endStream: true, endHeaders: false }), continuation(1, b, false), continuation(1, d, true));
    const r = await c.expectResponse(1);
    assert.equal(r.status, '200');
  }));

  test('CONTINUATION followed by a frame other than CONTINUATION: PROTOCOL_ERROR', run(async (c) => {
    const [a, b, d] = split(c.encoder.encode(POST_HEADERS));
    c.send(headersWithBlock(1, a, { endStream: false, endHeaders: false }), continuation(1, b, false), data(1, 'x', true), continuation(1, d, true));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  // "If a CONTINUATION frame is received with a Stream Identifier field of 0x00, the recipient MUST
  // respond with a connection error (Section 5.4.1) of type PROTOCOL_ERROR."
  test('CONTINUATION on stream 0: PROTOCOL_ERROR', run(async (c) => {
    const [a, b, d] = split(c.encoder.encode(GET_HEADERS));
    c.send(headersWithBlock(1, a, { endStream: true, endHeaders: false }), continuation(0, b, false), continuation(1, d, true));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  test('CONTINUATION after HEADERS with END_HEADERS: PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), continuation(1, c.encoder.encode(['x-a', 'b']), true));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  test('CONTINUATION after a CONTINUATION with END_HEADERS: PROTOCOL_ERROR', run(async (c) => {
    const [a, b, d] = split(c.encoder.encode(POST_HEADERS));
    c.send(headersWithBlock(1, a, { endStream: false, endHeaders: false }), continuation(1, Buffer.concat([b, d]), true));
    c.send(continuation(1, literalBlock(['x-a', 'b']), true));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  test('CONTINUATION after DATA: PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), data(1, 'x'), continuation(1, c.encoder.encode(['x-a', 'b']), true));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  test('CONTINUATION on another stream than its HEADERS: PROTOCOL_ERROR', run(async (c) => {
    const [a, b, d] = split(c.encoder.encode(GET_HEADERS));
    c.send(headersWithBlock(1, a, { endStream: true, endHeaders: false }), continuation(3, b, false), continuation(1, d, true));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));
});
