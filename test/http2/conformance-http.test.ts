// HTTP/2 conformance, HTTP semantics (RFC 9113 section 8) and HPACK at the connection level
// (RFC 7541): raw bytes from a raw socket against the echo server, one connection per test.
// A malformed request is a stream error (RST_STREAM PROTOCOL_ERROR) that leaves the connection
// usable: every such test then sends a GET on the next stream and expects 200.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/http2/errors.js';
import { Flag, FrameType, SettingId, DEFAULT_HEADER_TABLE_SIZE } from '../../src/http2/frame/constants.js';
import {
  GET_HEADERS,
  POST_HEADERS,
  headersWithBlock,
  hpackInt,
  literalBlock,
  rawFrame,
  u32,
} from '../support/h2-client.js';
import { echoFixture } from '../support/echo-fixture.js';

const { PROTOCOL_ERROR, COMPRESSION_ERROR } = ErrorCode;

const { run } = echoFixture();

const data = (id: number, body: string, end = false) => rawFrame(FrameType.DATA, end ? Flag.END_STREAM : 0, id, Buffer.from(body));

/** A request whose header block is written literally (no normalisation), expected to be refused. */
const malformed = (headers: string[], endStream = true) =>
  run(async (c) => {
    c.send(headersWithBlock(1, literalBlock(headers), { endStream }));
    if (!endStream) c.send(data(1, 'x', true));
    await c.expectStreamError(1, PROTOCOL_ERROR, 3);
  });

const GET = GET_HEADERS;
const without = (h: string[], name: string) => {
  const out: string[] = [];
  for (let i = 0; i < h.length; i += 2) if (h[i] !== name) out.push(h[i]!, h[i + 1]!);
  return out;
};
const replace = (h: string[], name: string, value: string) => {
  const out = h.slice();
  for (let i = 0; i < out.length; i += 2) if (out[i] === name) out[i + 1] = value;
  return out;
};

describe('8.1 request exchange', () => {
  test('a GET is answered with :status 200 (literal header block)', run(async (c) => {
    c.send(headersWithBlock(1, literalBlock(GET), { endStream: true }));
    const r = await c.expectResponse(1);
    assert.equal(r.status, '200');
  }));

  test('a POST body is echoed', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), data(1, 'hello '), data(1, 'world', true));
    const r = await c.expectResponse(1);
    assert.equal(r.body.toString(), 'hello world');
  }));

  test('trailers with END_STREAM are accepted', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), data(1, 'abc'));
    c.send(c.headersFrame(1, ['x-checksum', '123'], { endStream: true }));
    const r = await c.expectResponse(1);
    assert.equal(r.body.toString(), 'abc');
  }));

  test('te: trailers is allowed', run(async (c) => {
    c.send(c.headersFrame(1, [...GET, 'te', 'trailers'], { endStream: true }));
    const r = await c.expectResponse(1);
    assert.equal(r.status, '200');
  }));

  // "An endpoint that receives a HEADERS frame without the END_STREAM flag set after receiving the
  // HEADERS frame that opens a request or after receiving a final (non-informational) status code
  // MUST treat the corresponding request or response as malformed (Section 8.1.1)."
  test('a second HEADERS frame without END_STREAM: stream error PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), data(1, 'abc'));
    c.send(c.headersFrame(1, ['x-trailer', 'v'], { endStream: false }));
    await c.expectStreamError(1, PROTOCOL_ERROR, 3);
  }));

  // "A request or response is also malformed if the value of a content-length header field does
  // not equal the sum of the DATA frame payload lengths that form the content"
  test('content-length larger than the DATA: stream error PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, [...POST_HEADERS, 'content-length', '10'], { endStream: false }), data(1, 'abcd', true));
    await c.expectStreamError(1, PROTOCOL_ERROR, 3);
  }));

  test('content-length smaller than the DATA: stream error PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, [...POST_HEADERS, 'content-length', '1'], { endStream: false }), data(1, 'ab'), data(1, 'cd', true));
    await c.expectStreamError(1, PROTOCOL_ERROR, 3);
  }));

  test('DATA past content-length, before END_STREAM: stream error PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, [...POST_HEADERS, 'content-length', '1'], { endStream: false }), data(1, 'abcd'));
    await c.expectStreamError(1, PROTOCOL_ERROR, 3);
  }));

  test('two different content-length values: stream error PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, [...POST_HEADERS, 'content-length', '3', 'content-length', '4'], { endStream: false }), data(1, 'abcd', true));
    await c.expectStreamError(1, PROTOCOL_ERROR, 3);
  }));

  test('a content-length that is not a number: stream error PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, [...POST_HEADERS, 'content-length', 'abc'], { endStream: false }), data(1, 'abc', true));
    await c.expectStreamError(1, PROTOCOL_ERROR, 3);
  }));

  test('content-length with a HEADERS-only request: stream error PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, [...POST_HEADERS, 'content-length', '3'], { endStream: true }));
    await c.expectStreamError(1, PROTOCOL_ERROR, 3);
  }));

  test('content-length equal to the DATA is accepted', run(async (c) => {
    c.send(c.headersFrame(1, [...POST_HEADERS, 'content-length', '4'], { endStream: false }), data(1, 'ab'), data(1, 'cd', true));
    const r = await c.expectResponse(1);
    assert.equal(r.body.toString(), 'abcd');
  }));
});

describe('8.2.1 field validity', () => {
  // "A field name MUST NOT contain characters in the ranges 0x00-0x20, 0x41-0x5a, or 0x7f-0xff
  // (all ranges inclusive)." ... "A request or response that contains a field that violates any of
  // these conditions MUST be treated as malformed (Section 8.1.1)."
  test('an uppercase field name: stream error PROTOCOL_ERROR', malformed([...GET, 'X-Upper', 'v']));
  test('a field name with a space: stream error PROTOCOL_ERROR', malformed([...GET, 'x y', 'v']));
  test('a field name with 0x7f: stream error PROTOCOL_ERROR', malformed([...GET, 'x\x7f', 'v']));
  // "With the exception of pseudo-header fields ... field names MUST NOT include a colon"
  test('a field name with a colon inside: stream error PROTOCOL_ERROR', malformed([...GET, 'x:y', 'v']));
  // "A field value MUST NOT contain the zero value (ASCII NUL, 0x00), line feed (ASCII LF, 0x0a),
  // or carriage return (ASCII CR, 0x0d) at any position."
  test('a field value with CR LF: stream error PROTOCOL_ERROR', malformed([...GET, 'x-a', 'b\r\nx-b: c']));
  test('a field value with NUL: stream error PROTOCOL_ERROR', malformed([...GET, 'x-a', 'b\0c']));
  // "A field value MUST NOT start or end with an ASCII whitespace character"
  test('a field value with leading whitespace: stream error PROTOCOL_ERROR', malformed([...GET, 'x-a', ' b']));
  test('a field value with trailing whitespace: stream error PROTOCOL_ERROR', malformed([...GET, 'x-a', 'b\t']));
  test('a pseudo-header value with CR LF: stream error PROTOCOL_ERROR', malformed(replace(GET, ':authority', 'localhost\r\nx-b: c')));
  test('an uppercase name in trailers: stream error PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), data(1, 'abc'));
    c.send(headersWithBlock(1, literalBlock(['X-Trailer', 'v']), { endStream: true }));
    await c.expectStreamError(1, PROTOCOL_ERROR, 3);
  }));
});

describe('8.2.2 connection-specific fields', () => {
  // "Any message containing connection-specific header fields MUST be treated as malformed"
  for (const [name, value] of [
    ['connection', 'keep-alive'],
    ['proxy-connection', 'keep-alive'],
    ['keep-alive', 'timeout=5'],
    ['transfer-encoding', 'chunked'],
    ['upgrade', 'h2c'],
  ] as const) {
    test(`${name}: stream error PROTOCOL_ERROR`, malformed([...GET, name, value]));
  }
  // "The only exception to this is the TE header field, which MAY be present in an HTTP/2 request;
  // when it is, it MUST NOT contain any value other than "trailers"."
  test('te: gzip: stream error PROTOCOL_ERROR', malformed([...GET, 'te', 'gzip']));
  test('te: trailers, gzip: stream error PROTOCOL_ERROR', malformed([...GET, 'te', 'trailers, gzip']));
});

describe('8.3 pseudo-header fields', () => {
  // "All pseudo-header fields MUST appear in a field block before all regular field lines. Any
  // request or response that contains a pseudo-header field that appears in a field block after a
  // regular field line MUST be treated as malformed"
  test('a pseudo-header after a regular field: stream error PROTOCOL_ERROR',
    malformed([':method', 'GET', ':scheme', 'http', 'x-a', 'b', ':path', '/', ':authority', 'localhost']));
  // "Endpoints MUST treat a request or response that contains undefined or invalid pseudo-header
  // fields as malformed"
  test('an unknown pseudo-header: stream error PROTOCOL_ERROR', malformed([...GET, ':foo', 'bar']));
  // "Pseudo-header fields defined for requests MUST NOT appear in responses; pseudo-header fields
  // defined for responses MUST NOT appear in requests."
  test('the response pseudo-header :status in a request: stream error PROTOCOL_ERROR', malformed([':status', '200', ...GET]));
  // "The same pseudo-header field name MUST NOT appear more than once in a field block."
  test('a duplicate :method: stream error PROTOCOL_ERROR', malformed([':method', 'GET', ':method', 'POST', ':scheme', 'http', ':path', '/', ':authority', 'localhost']));
  test('a duplicate :scheme: stream error PROTOCOL_ERROR', malformed([':method', 'GET', ':scheme', 'http', ':scheme', 'https', ':path', '/', ':authority', 'localhost']));
  test('a duplicate :path: stream error PROTOCOL_ERROR', malformed([':method', 'GET', ':scheme', 'http', ':path', '/', ':path', '/x', ':authority', 'localhost']));
  test('a duplicate :authority: stream error PROTOCOL_ERROR', malformed([':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'localhost', ':authority', 'other']));
  // "All HTTP/2 requests MUST include exactly one valid value for the ":method", ":scheme", and
  // ":path" pseudo-header fields, unless they are CONNECT requests"
  test('no :method: stream error PROTOCOL_ERROR', malformed(without(GET, ':method')));
  test('no :scheme: stream error PROTOCOL_ERROR', malformed(without(GET, ':scheme')));
  test('no :path: stream error PROTOCOL_ERROR', malformed(without(GET, ':path')));
  // ":path ... This pseudo-header field MUST NOT be empty for "http" or "https" URIs"
  test('an empty :path: stream error PROTOCOL_ERROR', malformed(replace(GET, ':path', '')));
  // CONNECT: "The :scheme and :path pseudo-header fields MUST be omitted." / "The :authority
  // pseudo-header field contains the host and port to connect to" (8.5)
  test('CONNECT with :path: stream error PROTOCOL_ERROR', malformed([':method', 'CONNECT', ':authority', 'example.com:443', ':path', '/'], false));
  test('CONNECT without :authority: stream error PROTOCOL_ERROR', malformed([':method', 'CONNECT'], false));
  // "Pseudo-header fields MUST NOT appear in a trailer section."
  test('a pseudo-header in trailers: stream error PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), data(1, 'abc'));
    c.send(headersWithBlock(1, literalBlock([':method', 'POST']), { endStream: true }));
    await c.expectStreamError(1, PROTOCOL_ERROR, 3);
  }));
});

describe('8.4 server push', () => {
  // "A client cannot push. Thus, servers MUST treat the receipt of a PUSH_PROMISE frame as a
  // connection error (Section 5.4.1) of type PROTOCOL_ERROR."
  test('PUSH_PROMISE from the client: PROTOCOL_ERROR', run(async (c) => {
    c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
    c.send(rawFrame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, 1, Buffer.concat([u32(2), literalBlock(GET)])));
    await c.expectConnectionError(PROTOCOL_ERROR);
  }));
});

describe('RFC 7541 HPACK on the connection', () => {
  const block = (bytes: number[]) => Buffer.concat([Buffer.from(bytes), literalBlock(GET)]);
  const bad = (bytes: number[], tail = true) =>
    run(async (c) => {
      c.send(headersWithBlock(1, tail ? block(bytes) : Buffer.from(bytes), { endStream: true }));
      await c.expectConnectionError(COMPRESSION_ERROR);
    });

  // "The new maximum size MUST be lower than or equal to the limit determined by the protocol using
  // HPACK. A value that exceeds this limit MUST be treated as a decoding error."
  test('a dynamic table size update above SETTINGS_HEADER_TABLE_SIZE: COMPRESSION_ERROR', run(async (c) => {
    const limit = c.serverSetting(SettingId.HEADER_TABLE_SIZE) ?? DEFAULT_HEADER_TABLE_SIZE;
    c.send(headersWithBlock(1, block(hpackInt(limit + 1, 5, 0x20)), { endStream: true }));
    await c.expectConnectionError(COMPRESSION_ERROR);
  }));

  test('dynamic table size updates to 0 and back to the setting are accepted', run(async (c) => {
    const limit = c.serverSetting(SettingId.HEADER_TABLE_SIZE) ?? DEFAULT_HEADER_TABLE_SIZE;
    c.send(headersWithBlock(1, block([...hpackInt(0, 5, 0x20), ...hpackInt(limit, 5, 0x20)]), { endStream: true }));
    const r = await c.expectResponse(1);
    assert.equal(r.status, '200');
  }));

  // "This dynamic table size update MUST occur at the beginning of the first field block following
  // the change to the dynamic table size."
  test('a dynamic table size update after a field: COMPRESSION_ERROR', run(async (c) => {
    c.send(headersWithBlock(1, Buffer.concat([literalBlock(GET), Buffer.from(hpackInt(100, 5, 0x20))]), { endStream: true }));
    await c.expectConnectionError(COMPRESSION_ERROR);
  }));

  // "The index value of 0 is not used. It MUST be treated as a decoding error if found in an
  // indexed header field representation."
  test('indexed field with index 0: COMPRESSION_ERROR', bad([0x80]));

  // "Indices strictly greater than the sum of the lengths of both tables MUST be treated as a
  // decoding error."
  test('indexed field past the tables: COMPRESSION_ERROR', bad([0x80 | 70]));
  test('literal with an indexed name past the tables: COMPRESSION_ERROR', bad([0x0f, 0x70, 0x01, 0x61]));

  // "A Huffman-encoded string literal containing the EOS symbol MUST be treated as a decoding
  // error."
  test('a Huffman string containing EOS: COMPRESSION_ERROR', bad([0x00, 0x01, 0x61, 0x84, 0xff, 0xff, 0xff, 0xff]));
  // "A padding strictly longer than 7 bits MUST be treated as a decoding error."
  test('Huffman padding longer than 7 bits: COMPRESSION_ERROR', bad([0x00, 0x01, 0x61, 0x82, 0x1f, 0xff]));
  // "A padding not corresponding to the most significant bits of the code for the EOS symbol MUST
  // be treated as a decoding error."
  test('Huffman padding that is not EOS bits: COMPRESSION_ERROR', bad([0x00, 0x01, 0x61, 0x81, 0x18]));
  test('a string length past the end of the block: COMPRESSION_ERROR', bad([0x00, 0x01, 0x61, 0x7f, 0x10, 0x61], false));
  test('an integer that does not end: COMPRESSION_ERROR', bad([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], false));

  test('the dynamic table stays in sync across requests and refused streams', run(async (c) => {
    const h = [...GET, 'x-custom', 'a value worth indexing'];
    c.send(c.headersFrame(1, h, { endStream: true }));
    await c.expectResponse(1);
    // a malformed request that still adds to the table (connection is a literal with indexing)
    c.send(c.headersFrame(3, [...h, 'connection', 'close'], { endStream: true }));
    await c.expectRst(3, PROTOCOL_ERROR);
    c.send(c.headersFrame(5, h, { endStream: true }));
    const r = await c.expectResponse(5);
    assert.equal(r.status, '200');
  }));
});
