// server.stats counts what hostile peers cost across all connections (issue 14): headersTooLarge
// (field blocks past maxHeaderListSize; the 4th in a flood window ends the connection) and
// lingerCuts (connections destroyed because the peer kept writing after the server's last GOAWAY).
// Raw HTTP/2 clients against a Greeter server on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/http2/errors.js';
import { FrameType } from '../../src/http2/frame/constants.js';
import { startGreeter } from '../../examples/greeter/server.js';
import { H2Client, GET_HEADERS, headersWithBlock, hpackInt, literalBlock, rawFrame } from '../support/h2-client.js';

test('server.stats: headersTooLarge across connections, lingerCuts for a peer writing past the GOAWAY', async () => {
  const { server, port } = await startGreeter({ address: '127.0.0.1:0', http2: { maxHeaderListSize: 4096 } });
  try {
    assert.equal(server.stats.headersTooLarge, 0);
    assert.equal(server.stats.lingerCuts, 0);
    // an HPACK bomb: one 3,800-octet entry, then blocks of 2,000 references to it, until GOAWAY
    const c = await H2Client.connect(port);
    const value = 'b'.repeat(3800);
    const insert = Buffer.concat([Buffer.from([0x40, 0x06]), Buffer.from('x-bomb'), Buffer.from(hpackInt(value.length, 7)), Buffer.from(value)]);
    const bomb = Buffer.concat([literalBlock(GET_HEADERS), Buffer.alloc(2000, 0x80 | 62)]);
    const frames = [headersWithBlock(1, Buffer.concat([literalBlock(GET_HEADERS), insert]), { endStream: true })];
    for (let i = 1; i <= 10; i++) frames.push(headersWithBlock(1 + 2 * i, bomb, { endStream: true }));
    c.send(Buffer.concat(frames));
    await c.expectConnectionError(ErrorCode.ENHANCE_YOUR_CALM);
    c.close();
    assert.equal(server.stats.headersTooLarge, 4);

    // a peer that ignores its GOAWAY(PROTOCOL_ERROR) and keeps writing PINGs is cut
    const d = await H2Client.connect(port);
    d.send(rawFrame(FrameType.DATA, 0, 0, Buffer.alloc(4)));
    const pings = Buffer.concat(Array.from({ length: 4096 }, () => rawFrame(FrameType.PING, 0, 0, Buffer.alloc(8))));
    for (let i = 0; i < 4000 && !d.closed; i++) await d.sendAndFlush(pings);
    await d.expectClosed();
    d.close();
    assert.equal(server.stats.lingerCuts, 1);
  } finally {
    server.forceShutdown();
  }
});
