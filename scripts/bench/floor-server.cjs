'use strict';
// Node's own floor for the bench: a bare Node process that answers every unary call with
// precomputed bytes. No HPACK decoding, no protobuf, no gRPC: whatever the request's path or body,
// each stream the client ends gets the same HEADERS + DATA (HelloReply{message: "hello world"}) +
// trailers (grpc-status 0), with the stream id patched in. What a real server costs above these
// figures is its own work; this is a reference, not a competitor (it answers nothing else).
//
//   node scripts/bench/floor-server.cjs <port>     listens on 127.0.0.1:<port> (0 = ephemeral)
//
// Enough HTTP/2 for h2load, grpc-js and node:http2 clients: our (empty) SETTINGS, SETTINGS ACK,
// PING ACK, WINDOW_UPDATE for the DATA received (connection, and stream while a stream stays open),
// a HEADERS block ended by CONTINUATION, GOAWAY (closes). Our responses use only a static-table
// index and literals without indexing, so no HPACK state is kept on either side; the peer's header
// blocks are skipped, which is only safe because we never need to decode them. Prints
// "listening <port>" once bound.
const net = require('node:net');

const DATA = 0;
const HEADERS = 1;
const SETTINGS = 4;
const PING = 6;
const GOAWAY = 7;
const WINDOW_UPDATE = 8;
const CONTINUATION = 9;
const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PREFACE_LENGTH = 24; // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
const WINDOW_UPDATE_AFTER = 16384; // bytes of DATA received before the connection window is topped up

function frame(type, flags, id, payload) {
  const b = Buffer.alloc(9 + payload.length);
  b.writeUIntBE(payload.length, 0, 3);
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(id, 5);
  payload.copy(b, 9);
  return b;
}

/** HPACK literal header field without indexing, new name, no Huffman (lengths < 127). */
function literal(name, value) {
  return Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
}

const RESPONSE_HEADERS = Buffer.concat([Buffer.from([0x88]) /* :status 200, static table 8 */, literal('content-type', 'application/grpc')]);
const REPLY = Buffer.from('hello world');
// 5-byte gRPC prefix (not compressed, length) + HelloReply field 1 (string).
const MESSAGE = Buffer.concat([Buffer.from([0, 0, 0, 0, 2 + REPLY.length, 0x0a, REPLY.length]), REPLY]);
const TRAILERS = literal('grpc-status', '0');
const RESPONSE = Buffer.concat([frame(HEADERS, END_HEADERS, 0, RESPONSE_HEADERS), frame(DATA, 0, 0, MESSAGE), frame(HEADERS, END_HEADERS | END_STREAM, 0, TRAILERS)]);
const STREAM_ID_OFFSETS = [5, 5 + 9 + RESPONSE_HEADERS.length, 5 + 9 + RESPONSE_HEADERS.length + 9 + MESSAGE.length];
const OUR_SETTINGS = frame(SETTINGS, 0, 0, Buffer.alloc(0));
const SETTINGS_ACK = frame(SETTINGS, ACK, 0, Buffer.alloc(0));

function windowUpdate(id, increment) {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(increment, 0);
  return frame(WINDOW_UPDATE, 0, id, p);
}

function serve(socket) {
  socket.setNoDelay(true);
  socket.write(OUR_SETTINGS);
  let pending = null; // the start of a frame not yet complete
  let prefaceLeft = PREFACE_LENGTH;
  let unacked = 0; // DATA bytes received since the last connection WINDOW_UPDATE
  let endsAfterContinuation = 0; // stream whose HEADERS had END_STREAM but not END_HEADERS
  socket.on('data', (chunk) => {
    let buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
    pending = null;
    if (prefaceLeft > 0) {
      const n = Math.min(prefaceLeft, buf.length);
      prefaceLeft -= n;
      buf = buf.subarray(n);
    }
    const control = []; // acks and window updates, written before the responses
    const answer = []; // stream ids to answer
    let off = 0;
    while (buf.length - off >= 9) {
      const len = buf.readUIntBE(off, 3);
      if (buf.length - off < 9 + len) break;
      const type = buf[off + 3];
      const flags = buf[off + 4];
      const id = buf.readUInt32BE(off + 5) & 0x7fffffff;
      if (type === DATA) {
        unacked += len;
        if (flags & END_STREAM) answer.push(id);
        else if (len > 0) control.push(windowUpdate(id, len));
      } else if (type === HEADERS) {
        if (flags & END_STREAM) {
          if (flags & END_HEADERS) answer.push(id);
          else endsAfterContinuation = id;
        }
      } else if (type === CONTINUATION) {
        if (flags & END_HEADERS && endsAfterContinuation === id) {
          answer.push(id);
          endsAfterContinuation = 0;
        }
      } else if (type === SETTINGS) {
        if (!(flags & ACK)) control.push(SETTINGS_ACK);
      } else if (type === PING) {
        if (!(flags & ACK)) control.push(frame(PING, ACK, 0, buf.subarray(off + 9, off + 17)));
      } else if (type === GOAWAY) {
        socket.end();
        return;
      }
      off += 9 + len;
    }
    if (off < buf.length) pending = buf.subarray(off);
    if (unacked >= WINDOW_UPDATE_AFTER) {
      control.push(windowUpdate(0, unacked));
      unacked = 0;
    }
    if (control.length === 0 && answer.length === 0) return;
    // One buffer per read: the control frames, then a copy of RESPONSE per stream, ids patched.
    let size = answer.length * RESPONSE.length;
    for (const c of control) size += c.length;
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (const c of control) at += c.copy(out, at);
    for (const sid of answer) {
      RESPONSE.copy(out, at);
      for (const o of STREAM_ID_OFFSETS) out.writeUInt32BE(sid, at + o);
      at += RESPONSE.length;
    }
    socket.write(out);
  });
  socket.on('error', () => socket.destroy());
}

const server = net.createServer(serve);
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => console.log('listening ' + server.address().port));
