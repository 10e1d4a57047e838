// HTTP/2 conformance, frame level (RFC 9113 sections 3.4, 4, 5.4, 5.5, 6.3-6.8): raw bytes from a
// raw socket against the echo server, one connection per test. Every connection error must be a
// GOAWAY with the RFC's code followed by the close of the connection.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/http2/errors.js';
import { CLIENT_PREFACE, Flag, FrameType, SettingId, DEFAULT_MAX_FRAME_SIZE } from '../../src/http2/frame/constants.js';
import {
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

const { PROTOCOL_ERROR, FRAME_SIZE_ERROR, FLOW_CONTROL_ERROR, COMPRESSION_ERROR, CANCEL } = ErrorCode;

const { run } = echoFixture();

describe('3.4 connection preface', () => {
  test('the server connection preface is a SETTINGS frame, sent first', run(async (c) => {
    await c.expectFrame(FrameType.SETTINGS, (f) => !f.ack);
    assert.match(c.log[0] ?? '', /^SETTINGS\((?!ACK)/, `first frame: ${c.history()}`);
  }, { handshake: false }));

  test('the server acknowledges the client preface SETTINGS', run(async (c) => {
    await c.expectFrame(FrameType.SETTINGS, (f) => f.ack);
  }, { handshake: false }));

  // "Clients and servers MUST treat an invalid connection preface as a connection error of type
  // PROTOCOL_ERROR. A GOAWAY frame MAY be omitted in this case"
  test('invalid preface: connection closed (GOAWAY PROTOCOL_ERROR optional)', run(async (c) => {
    c.send(Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n', 'latin1'), rawFrame(FrameType.SETTINGS, 0, 0));
    await c.expectClosed();
    const g = c.frames.find((f) => f.type === FrameType.GOAWAY);
    if (g && g.type === FrameType.GOAWAY) assert.equal(g.errorCode, PROTOCOL_ERROR);
  }, { preface: false }));

  test('an HTTP/1.1 request instead of the preface: connection closed', run(async (c) => {
    c.send(Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', 'latin1'));
    await c.expectClosed();
    const g = c.frames.find((f) => f.type === FrameType.GOAWAY);
    if (g && g.type === FrameType.GOAWAY) assert.equal(g.errorCode, PROTOCOL_ERROR);
  }, { preface: false }));

  // "That is, the connection preface ... MUST be followed by a SETTINGS frame"
  test('preface followed by a frame other than SETTINGS: PROTOCOL_ERROR', run(async (c) => {
    c.send(CLIENT_PREFACE, rawFrame(FrameType.PING, 0, 0, Buffer.alloc(8)));
    await c.expectClosed();
    const g = c.frames.find((f) => f.type === FrameType.GOAWAY);
    if (g && g.type === FrameType.GOAWAY) assert.equal(g.errorCode, PROTOCOL_ERROR);
    assert.ok(!c.frames.some((f) => f.type === FrameType.PING && f.ack), `PING answered: ${c.history()}`);
  }, { preface: false }));
});

describe('4.1 frame format', () => {
  // "Implementations MUST ignore and discard frames of unknown types."
  test('a frame of unknown type is ignored', run(async (c) => {
    c.send(rawFrame(0x16, 0, 0, Buffer.from('unknown frame')), rawFrame(0xfe, 0xff, 1, Buffer.alloc(3)));
    c.ping(Buffer.from('12345678'));
    await c.expectFrame(FrameType.PING, (f) => f.ack && f.data.toString() === '12345678');
    await c.expectAlive(1);
  }));

  // "Unused flags MUST be ignored on receipt and MUST be left unset (0x00) when sending."
  test('undefined flags on PING are ignored', run(async (c) => {
    c.send(rawFrame(FrameType.PING, 0xfe, 0, Buffer.from('flagflag')));
    await c.expectFrame(FrameType.PING, (f) => f.ack && f.data.toString() === 'flagflag');
  }));

  test('undefined flags on HEADERS are ignored', run(async (c) => {
    const frame = c.headersFrame(1, GET_HEADERS, { endStream: true });
    frame[4] = frame[4]! | 0x02 | 0x10 | 0x40 | 0x80;
    c.send(frame);
    const r = await c.expectResponse(1);
    assert.equal(r.status, '200');
  }));

  // "The semantics of this bit are undefined, and the bit MUST remain unset (0x00) when sending
  // and MUST be ignored when receiving."
  test('the reserved bit of the stream identifier is ignored', run(async (c) => {
    const frame = c.headersFrame(1, GET_HEADERS, { endStream: true });
    frame[5] = frame[5]! | 0x80;
    c.send(frame);
    const r = await c.expectResponse(1);
    assert.equal(r.status, '200');
  }));

  test('frames split across many TCP writes, one octet each, are reassembled', run(async (c) => {
    const bytes = Buffer.concat([c.headersFrame(1, POST_HEADERS, { endStream: false }), rawFrame(FrameType.DATA, Flag.END_STREAM, 1, Buffer.from('dribble'))]);
    for (let i = 0; i < bytes.length; i++) {
      await c.sendAndFlush(bytes.subarray(i, i + 1));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const r = await c.expectResponse(1);
    assert.equal(r.body.toString(), 'dribble');
  }));

  test('the reserved bit on PING (stream 0) is ignored', run(async (c) => {
    c.send(rawFrame(FrameType.PING, 0, 0x80000000, Buffer.from('reserved')));
    await c.expectFrame(FrameType.PING, (f) => f.ack && f.data.toString() === 'reserved');
  }));
});

describe('4.2 frame size', () => {
  // "All implementations MUST be capable of receiving and minimally processing frames up to 2^14
  // octets in length"
  test('a DATA frame of 2^14 octets is accepted', run(async (c) => {
    const body = Buffer.alloc(16384, 'a');
    c.post(1, body);
    const r = await c.expectResponse(1);
    assert.equal(r.status, '200');
    assert.ok(r.body.equals(body), `echoed ${r.body.length} octets`);
  }));

  // "An endpoint MUST send an error code of FRAME_SIZE_ERROR if a frame exceeds the size defined in
  // SETTINGS_MAX_FRAME_SIZE" (DATA may be a stream error or a connection error)
  test('a DATA frame larger than SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR', run(async (c) => {
    const max = c.serverSetting(SettingId.MAX_FRAME_SIZE) ?? DEFAULT_MAX_FRAME_SIZE;
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(FrameType.DATA, Flag.END_STREAM, 1, Buffer.alloc(max + 1)));
    await c.expectStreamOrConnectionError(1, FRAME_SIZE_ERROR);
  }));

  // "A frame size error in a frame that could alter the state of the entire connection MUST be
  // treated as a connection error; this includes any frame carrying a field block"
  test('a HEADERS frame larger than SETTINGS_MAX_FRAME_SIZE: connection FRAME_SIZE_ERROR', run(async (c) => {
    const max = c.serverSetting(SettingId.MAX_FRAME_SIZE) ?? DEFAULT_MAX_FRAME_SIZE;
    const pad = Buffer.alloc(max, 'x').toString('latin1');
    c.send(headersWithBlock(1, literalBlock([...GET_HEADERS, 'x-big', pad]), { endStream: true }));
    await c.expectConnectionError(FRAME_SIZE_ERROR);
  }));

  test('a SETTINGS frame larger than SETTINGS_MAX_FRAME_SIZE: connection FRAME_SIZE_ERROR', run(async (c) => {
    const max = c.serverSetting(SettingId.MAX_FRAME_SIZE) ?? DEFAULT_MAX_FRAME_SIZE;
    const n = Math.floor(max / 6) + 1;
    const pairs: number[] = [];
    for (let i = 0; i < n; i++) pairs.push(0xf000 + (i % 0xfff), 1);
    c.send(rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload(pairs)));
    await c.expectConnectionError(FRAME_SIZE_ERROR);
  }));
});

describe('4.2 frames too small for their mandatory data', () => {
  // "An endpoint MUST send an error code of FRAME_SIZE_ERROR if a frame ... is too small to contain
  // mandatory frame data."
  test('a PADDED DATA frame without its Pad Length octet: FRAME_SIZE_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), rawFrame(FrameType.DATA, Flag.PADDED, 1));
    await c.expectStreamOrConnectionError(1, FRAME_SIZE_ERROR);
  }));

  test('a PADDED HEADERS frame without its Pad Length octet: connection FRAME_SIZE_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.HEADERS, Flag.PADDED | Flag.END_HEADERS | Flag.END_STREAM, 1));
    await c.expectConnectionError(FRAME_SIZE_ERROR);
  }));

  test('a HEADERS frame with PRIORITY and 3 octets: connection FRAME_SIZE_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.HEADERS, Flag.PRIORITY | Flag.END_HEADERS | Flag.END_STREAM, 1, Buffer.from([0, 0, 0])));
    await c.expectConnectionError(FRAME_SIZE_ERROR);
  }));

  test('a GOAWAY frame of 4 octets: FRAME_SIZE_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.GOAWAY, 0, 0, u32(0)));
    await c.expectConnectionError(FRAME_SIZE_ERROR);
  }));
});

describe('4.3 field section compression', () => {
  // "A decoding error in a field block MUST be treated as a connection error of type
  // COMPRESSION_ERROR."
  test('an undecodable field block: COMPRESSION_ERROR', run(async (c) => {
    // literal without indexing, new name, raw name length 5 but only 1 octet follows
    c.send(headersWithBlock(1, Buffer.from([0x00, 0x05, 0x61]), { endStream: true }));
    await c.expectConnectionError(COMPRESSION_ERROR);
  }));

  // "Each field block is processed as a discrete unit. Field blocks MUST be transmitted as a
  // contiguous sequence of frames, with no interleaved frames of any other type or from any other
  // stream."
  test('a PRIORITY frame inside a header block: PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, GET_HEADERS, { endStream: true, endHeaders: false }));
    c.send(rawFrame(FrameType.PRIORITY, 0, 1, priorityFields(0)));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  test('a HEADERS frame of another stream inside a header block: PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, GET_HEADERS, { endStream: true, endHeaders: false }));
    c.send(c.headersFrame(3, GET_HEADERS, { endStream: true }));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));
});

describe('5.4.1 connection error handling', () => {
  test('GOAWAY carries the error code and the last processed stream, then the connection closes', run(async (c) => {
    await c.expectAlive(1);
    c.send(rawFrame(FrameType.DATA, 0, 0, Buffer.from('x')));
    const g = await c.expectConnectionError(PROTOCOL_ERROR);
    assert.equal(g.lastStreamId, 1);
  }));
});

describe('5.5 extending HTTP/2', () => {
  // "Implementations MUST discard frames that have unknown or unsupported types."
  test('an unknown frame on an open stream is ignored', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(0x20, 0, 1, Buffer.from('ext')));
    c.send(rawFrame(FrameType.DATA, Flag.END_STREAM, 1, Buffer.from('body')));
    const r = await c.expectResponse(1);
    assert.equal(r.body.toString(), 'body');
  }));

  // "Extension frames that appear in the middle of a field block (Section 4.3) are not permitted;
  // these MUST be treated as a connection error (Section 5.4.1) of type PROTOCOL_ERROR."
  test('an unknown frame inside a header block: PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, GET_HEADERS, { endStream: true, endHeaders: false }));
    c.send(rawFrame(0x20, 0, 1, Buffer.from('ext')));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));
});

describe('6.3 PRIORITY', () => {
  // "If a PRIORITY frame is received with a stream identifier of 0x00, the recipient MUST respond
  // with a connection error (Section 5.4.1) of type PROTOCOL_ERROR."
  test('PRIORITY on stream 0: PROTOCOL_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.PRIORITY, 0, 0, priorityFields(1)));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  // "A PRIORITY frame with a length other than 5 octets MUST be treated as a stream error
  // (Section 5.4.2) of type FRAME_SIZE_ERROR."
  test('PRIORITY of 4 octets: stream error FRAME_SIZE_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(FrameType.PRIORITY, 0, 1, Buffer.from([0, 0, 0, 0])));
    await c.expectStreamError(1, FRAME_SIZE_ERROR, 3);
  }));

  // "The PRIORITY frame can be sent for a stream in any state"
  test('PRIORITY on an idle stream, then a request on it, is accepted', run(async (c) => {
    c.send(rawFrame(FrameType.PRIORITY, 0, 1, priorityFields(0, 200)));
    await c.expectAlive(1);
    c.send(rawFrame(FrameType.PRIORITY, 0, 1, priorityFields(0, 1)));
    await c.expectAlive(3);
  }));
});

describe('6.4 RST_STREAM', () => {
  // "If a RST_STREAM frame is received with a stream identifier of 0x00, the recipient MUST treat
  // this as a connection error (Section 5.4.1) of type PROTOCOL_ERROR."
  test('RST_STREAM on stream 0: PROTOCOL_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.RST_STREAM, 0, 0, u32(CANCEL)));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  // "If a RST_STREAM frame identifying an idle stream is received, the recipient MUST treat this
  // as a connection error (Section 5.4.1) of type PROTOCOL_ERROR."
  test('RST_STREAM on an idle stream: PROTOCOL_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.RST_STREAM, 0, 1, u32(CANCEL)));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  // "A RST_STREAM frame with a length other than 4 octets MUST be treated as a connection error
  // (Section 5.4.1) of type FRAME_SIZE_ERROR."
  test('RST_STREAM of 3 octets: FRAME_SIZE_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(FrameType.RST_STREAM, 0, 1, Buffer.from([0, 0, 8])));
    await c.expectConnectionError(FRAME_SIZE_ERROR);
  }));

  test('RST_STREAM on an open stream closes it; the connection goes on', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(FrameType.RST_STREAM, 0, 1, u32(CANCEL)));
    await c.expectAlive(3);
    await c.expectNoFrameBeforePingAck(FrameType.RST_STREAM, (f) => f.streamId === 1);
  }));
});

describe('7 error codes', () => {
  // "Unknown or unsupported error codes MUST NOT trigger any special behavior. These MAY be treated
  // by an implementation as being equivalent to INTERNAL_ERROR."
  test('RST_STREAM with an unknown error code closes the stream only', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), rawFrame(FrameType.RST_STREAM, 0, 1, u32(0xdeadbeef)));
    await c.expectAlive(3);
  }));

  test('GOAWAY with an unknown error code is accepted (open streams finish)', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(FrameType.GOAWAY, 0, 0, Buffer.concat([u32(0), u32(0xdeadbeef), Buffer.from('debug data')])));
    c.send(rawFrame(FrameType.DATA, Flag.END_STREAM, 1, Buffer.from('bye')));
    const r = await c.expectResponse(1);
    assert.equal(r.body.toString(), 'bye');
  }));
});

describe('6.5 SETTINGS', () => {
  // "Receipt of a SETTINGS frame with the ACK flag set and a length field value other than 0 MUST
  // be treated as a connection error (Section 5.4.1) of type FRAME_SIZE_ERROR."
  test('SETTINGS ACK with a payload: FRAME_SIZE_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.SETTINGS, Flag.ACK, 0, settingsPayload([SettingId.ENABLE_PUSH, 0])));
    await c.expectConnectionError(FRAME_SIZE_ERROR);
  }));

  // "If an endpoint receives a SETTINGS frame whose Stream Identifier field is anything other than
  // 0x00, the endpoint MUST respond with a connection error (Section 5.4.1) of type PROTOCOL_ERROR."
  test('SETTINGS on stream 1: PROTOCOL_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.SETTINGS, 0, 1, settingsPayload([SettingId.ENABLE_PUSH, 0])));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  // "A SETTINGS frame with a length other than a multiple of 6 octets MUST be treated as a
  // connection error (Section 5.4.1) of type FRAME_SIZE_ERROR."
  test('SETTINGS of 3 octets: FRAME_SIZE_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.SETTINGS, 0, 0, Buffer.from([0, 2, 0])));
    await c.expectConnectionError(FRAME_SIZE_ERROR);
  }));

  // "Any value other than 0 or 1 MUST be treated as a connection error (Section 5.4.1) of type
  // PROTOCOL_ERROR."
  test('SETTINGS_ENABLE_PUSH = 2: PROTOCOL_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([SettingId.ENABLE_PUSH, 2])));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  // "Values above the maximum flow-control window size of 2^31-1 MUST be treated as a connection
  // error (Section 5.4.1) of type FLOW_CONTROL_ERROR."
  test('SETTINGS_INITIAL_WINDOW_SIZE = 2^31: FLOW_CONTROL_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([SettingId.INITIAL_WINDOW_SIZE, 2 ** 31])));
    await c.expectConnectionError(FLOW_CONTROL_ERROR);
  }));

  // "Values outside this range MUST be treated as a connection error (Section 5.4.1) of type
  // PROTOCOL_ERROR." (16,384 to 16,777,215)
  test('SETTINGS_MAX_FRAME_SIZE = 16383: PROTOCOL_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([SettingId.MAX_FRAME_SIZE, 16383])));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  test('SETTINGS_MAX_FRAME_SIZE = 2^24: PROTOCOL_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([SettingId.MAX_FRAME_SIZE, 2 ** 24])));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  // "An endpoint that receives a SETTINGS frame with any unknown or unsupported identifier MUST
  // ignore that setting."
  test('an unknown setting is ignored (and acknowledged)', run(async (c) => {
    c.send(rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([0xff, 1, 0x7777, 0xffffffff])));
    await c.expectFrame(FrameType.SETTINGS, (f) => f.ack);
    await c.expectAlive(1);
  }));

  // "Upon receiving a SETTINGS frame with the ACK flag not set, the recipient MUST apply the
  // updated settings as soon as possible upon receipt ... and immediately emit a SETTINGS frame
  // with the ACK flag set."
  test('each SETTINGS frame is acknowledged', run(async (c) => {
    c.send(rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([SettingId.MAX_CONCURRENT_STREAMS, 10])));
    c.send(rawFrame(FrameType.SETTINGS, 0, 0));
    await c.expectFrame(FrameType.SETTINGS, (f) => f.ack);
    await c.expectFrame(FrameType.SETTINGS, (f) => f.ack);
  }));

  test('SETTINGS_ENABLE_PUSH = 1 and SETTINGS_MAX_CONCURRENT_STREAMS = 0 from a client are accepted', run(async (c) => {
    c.send(rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([SettingId.ENABLE_PUSH, 1, SettingId.MAX_CONCURRENT_STREAMS, 0])));
    await c.expectFrame(FrameType.SETTINGS, (f) => f.ack);
    await c.expectAlive(1);
  }));

  // SETTINGS_HEADER_TABLE_SIZE: "This setting allows the sender to inform the remote endpoint of
  // the maximum size of the compression table used to decode field blocks" (6.5.2); the client's
  // decoder here follows its own setting and fails on a block that breaks it.
  test("the server's encoder honours the client's SETTINGS_HEADER_TABLE_SIZE = 0", run(async (c) => {
    for (let id = 1; id <= 7; id += 2) await c.expectAlive(id);
  }, { settings: [SettingId.HEADER_TABLE_SIZE, 0] }));

  test("the server's encoder honours a SETTINGS_HEADER_TABLE_SIZE lowered mid-connection", run(async (c) => {
    await c.expectAlive(1);
    await c.expectAlive(3);
    c.decoder.setMaxTableSize(100);
    c.send(rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([SettingId.HEADER_TABLE_SIZE, 100])));
    await c.expectFrame(FrameType.SETTINGS, (f) => f.ack);
    for (let id = 5; id <= 9; id += 2) await c.expectAlive(id);
  }));

  // "An endpoint MUST NOT send a frame with a length that exceeds the size set by SETTINGS_MAX_FRAME_SIZE" (4.2)
  test("the server never sends a frame larger than the client's SETTINGS_MAX_FRAME_SIZE", run(async (c) => {
    c.send(rawFrame(FrameType.WINDOW_UPDATE, 0, 0, u32(1 << 20)));
    const h = GET_HEADERS.slice();
    h[5] = '/bytes?n=200000';
    c.send(c.headersFrame(1, h, { endStream: true }));
    const r = await c.expectResponse(1); // the reader rejects any frame past 16384 octets
    assert.equal(r.body.length, 200000);
  }, { settings: [SettingId.INITIAL_WINDOW_SIZE, 1 << 20] }));

  test('a larger SETTINGS_MAX_FRAME_SIZE is accepted', run(async (c) => {
    c.send(rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([SettingId.MAX_FRAME_SIZE, 2 ** 24 - 1])));
    await c.expectFrame(FrameType.SETTINGS, (f) => f.ack);
    await c.expectAlive(1);
  }));
});

describe('6.7 PING', () => {
  // "Receivers of a PING frame that does not include an ACK flag MUST send a PING frame with the
  // ACK flag set in response, with an identical frame payload."
  test('PING is answered with ACK and the same payload', run(async (c) => {
    const data = Buffer.from([1, 2, 3, 4, 5, 6, 7, 0xff]);
    c.ping(data);
    const p = await c.expectFrame(FrameType.PING, (f) => f.ack);
    assert.deepEqual(p.data, data);
  }));

  // "An endpoint MUST NOT respond to PING frames containing this flag."
  test('a PING with ACK is not answered', run(async (c) => {
    c.ping(Buffer.from('aaaaaaaa'), true);
    c.ping(Buffer.from('bbbbbbbb'));
    const p = await c.expectFrame(FrameType.PING, () => true);
    assert.equal(p.data.toString(), 'bbbbbbbb');
    assert.ok(p.ack);
    assert.ok(!c.frames.some((f) => f.type === FrameType.PING), c.history());
  }));

  // "If a PING frame is received with a Stream Identifier field value other than 0x00, the
  // recipient MUST respond with a connection error (Section 5.4.1) of type PROTOCOL_ERROR."
  test('PING on stream 1: PROTOCOL_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.PING, 0, 1, Buffer.alloc(8)));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  // "Receipt of a PING frame with a length field value other than 8 MUST be treated as a connection
  // error (Section 5.4.1) of type FRAME_SIZE_ERROR."
  test('PING of 6 octets: FRAME_SIZE_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.PING, 0, 0, Buffer.alloc(6)));
    await c.expectConnectionError(FRAME_SIZE_ERROR);
  }));
});

describe('6.8 GOAWAY', () => {
  // "An endpoint MUST treat a GOAWAY frame with a stream identifier other than 0x00 as a connection
  // error (Section 5.4.1) of type PROTOCOL_ERROR."
  test('GOAWAY on stream 1: PROTOCOL_ERROR', run(async (c) => {
    c.send(rawFrame(FrameType.GOAWAY, 0, 1, Buffer.concat([u32(0), u32(0)])));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));

  test('after a client GOAWAY(NO_ERROR) a stream already open is still answered', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(FrameType.GOAWAY, 0, 0, Buffer.concat([u32(0), u32(ErrorCode.NO_ERROR)])));
    c.send(rawFrame(FrameType.DATA, Flag.END_STREAM, 1, Buffer.from('still here')));
    const r = await c.expectResponse(1);
    assert.equal(r.body.toString(), 'still here');
  }));
});
