// What the server connection does with each frame it receives (RFC 9113 sections 5.1, 6 and 8).
// Checks throw ConnectionError or StreamError; the connection turns them into GOAWAY/RST_STREAM.
import type { Http2ServerConnection } from './connection.js';
import { ConnectionError, ErrorCode, StreamError } from './errors.js';
import { Flag, FrameType } from './frame/constants.js';
import { EMPTY } from './frame/parse.js';
import type {
  DataFrame,
  Frame,
  HeadersFrame,
  RstStreamFrame,
  SettingsFrame,
  WindowUpdateFrame,
} from './frame/types.js';
import { HeaderListTooLargeError } from './hpack/index.js';
import { validateRequest, validateTrailers } from './headers.js';
import { connDataReceived, connWindowUpdate, peerInitialWindowChanged, streamWindowUpdate } from './flow.js';
import { localSettingsAcked, setEncoderTableSize } from './settings.js';
import { FloodCounter } from './limits.js';
import type { Http2ServerStream } from './stream.js';

const SELF_DEPENDENT = 'stream depends on itself';
const ZERO_INCREMENT = 'WINDOW_UPDATE increment 0';

const ACTIVE = 0;
/** Oversized field blocks (431 or a reset stream) a connection may send per flood window. */
const MAX_TOO_LARGE = 3;

export function handleFrame(c: Http2ServerConnection, f: Frame): void {
  if (!c.gotPeerSettings && (f.type !== FrameType.SETTINGS || f.ack)) {
    // "The SETTINGS frames received from a peer as part of the connection preface MUST be
    // acknowledged ... Clients and servers MUST treat an invalid connection preface as a
    // connection error of type PROTOCOL_ERROR." The client preface "MUST be followed by a
    // SETTINGS frame" (3.4)
    throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'first frame from the client is not SETTINGS');
  }
  switch (f.type) {
    case FrameType.DATA:
      onData(c, f);
      return;
    case FrameType.HEADERS:
      onHeaders(c, f);
      return;
    case FrameType.PRIORITY:
      // "A stream cannot depend on itself. An endpoint MUST treat this as a stream error of
      // type PROTOCOL_ERROR." (5.3.1) Otherwise priority signals are ignored (RFC 9113 5.3).
      if (f.priority.dependency === f.streamId) {
        throw new StreamError(f.streamId, ErrorCode.PROTOCOL_ERROR, SELF_DEPENDENT);
      }
      return;
    case FrameType.RST_STREAM:
      onRstStream(c, f);
      return;
    case FrameType.SETTINGS:
      onSettings(c, f);
      return;
    case FrameType.PUSH_PROMISE:
      // "A client cannot push. Thus, servers MUST treat the receipt of a PUSH_PROMISE frame as a
      // connection error of type PROTOCOL_ERROR." (8.4)
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE from a client');
    case FrameType.PING: {
      if (f.ack) {
        c.graceful.pingAcked(f.data);
        return;
      }
      c.stats.pingsReceived++;
      const now = Date.now();
      // The client's ping policy (keepalive.ts), and the flood ceiling beside it: either way the
      // debug text grpc clients read to slow their keepalive down.
      if (c.keepalive.strike(now) || c.floodPings.hit(now)) {
        c.keepalive.counters.tooManyPings++;
        // exactly these octets, which grpc-js and grpc-core compare (no "ENHANCE_YOUR_CALM: " prefix)
        c.fail(ErrorCode.ENHANCE_YOUR_CALM, 'too_many_pings');
        return;
      }
      // "Receivers of a PING frame that does not include an ACK flag MUST send a PING frame with
      // the ACK flag set in response, with an identical frame payload." (6.7)
      // Written straight into the output's staging buffer: no Buffer per PING.
      c.out.pushFrameHeader(8, FrameType.PING, Flag.ACK, 0);
      c.out.pushSlice(f.data, 0, 8);
      c.scheduleFlush();
      return;
    }
    case FrameType.GOAWAY:
      // The peer will open no more streams: finish the ones we have, then close.
      c.stats.goawayReceived = f.errorCode;
      c.peerGoaway = true;
      c.shutdown();
      return;
    case FrameType.WINDOW_UPDATE:
      onWindowUpdate(c, f);
      return;
  }
}

/** Is `id` a stream the client has not opened yet? (We never open streams: even ids are idle.) */
export function isIdle(c: Http2ServerConnection, id: number): boolean {
  return id > c.lastPeerStreamId || (id & 1) === 0;
}

// The reader hands the same DATA and HEADERS frame objects out again (FrameReader.reuse): their
// payload and block are dropped once used, so that an idle connection keeps no socket chunk.
function decodeBlock(c: Http2ServerConnection, f: HeadersFrame): string[] {
  const block = f.block;
  f.block = EMPTY;
  return c.decoder.decode(block, f.start, f.end);
}

/** Decode a header block we will not use: the HPACK state must stay in sync with the peer's. */
function decodeAndDrop(c: Http2ServerConnection, f: HeadersFrame): void {
  try {
    decodeBlock(c, f);
  } catch (e) {
    if (!(e instanceof HeaderListTooLargeError)) throw e;
  }
}

function onHeaders(c: Http2ServerConnection, f: HeadersFrame): void {
  const id = f.streamId;
  const s = c.byId(id);
  if (s !== undefined) {
    onTrailers(c, s, f);
    return;
  }
  if (id <= c.lastPeerStreamId || (id & 1) === 0) {
    decodeAndDrop(c, f);
    if (!isIdle(c, id) && (c.recentlyReset.has(id) || c.recentlyPeerReset.has(id) || c.recentlyClosed.has(id))) {
      onClosedStream(c, id, 'HEADERS');
      return;
    }
    // "Streams initiated by a client MUST use odd-numbered stream identifiers" / "The identifier
    // of a newly established stream MUST be numerically greater than all streams that the
    // initiating endpoint has opened or reserved. ... An endpoint that receives an unexpected
    // stream identifier MUST respond with a connection error of type PROTOCOL_ERROR." (5.1.1)
    throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `unexpected stream id ${id}`);
  }
  c.lastPeerStreamId = id;
  let headers: string[];
  try {
    headers = decodeBlock(c, f);
  } catch (e) {
    if (e instanceof HeaderListTooLargeError) {
      rejectTooLarge(c, id, f.endStream);
      return;
    }
    throw e;
  }
  if (c.state !== ACTIVE) {
    // After our GOAWAY: "the sender will ignore frames sent on streams initiated by the receiver
    // if the stream has an identifier higher than the included last stream identifier" (6.8);
    // we tell the client so it can retry elsewhere.
    c.sendRst(id, ErrorCode.REFUSED_STREAM);
    c.stats.streamsRefused++;
    return;
  }
  if (f.priority !== null && f.priority.dependency === id) {
    throw new StreamError(id, ErrorCode.PROTOCOL_ERROR, SELF_DEPENDENT);
  }
  if (c.streams.length >= c.opts.maxConcurrentStreams) {
    // "An endpoint that receives a HEADERS frame that causes its advertised concurrent stream
    // limit to be exceeded MUST treat this as a stream error of type PROTOCOL_ERROR or
    // REFUSED_STREAM." (5.1.2)
    c.stats.streamsRefused++;
    c.sendRst(id, ErrorCode.REFUSED_STREAM);
    c.countProvokedReset();
    return;
  }
  const contentLength = validateRequest(id, headers);
  if (f.endStream && contentLength > 0) {
    throw new StreamError(id, ErrorCode.PROTOCOL_ERROR, 'content-length without DATA');
  }
  c.openStream(id, headers, contentLength, f.endStream);
}

/**
 * A request whose header list is larger than our SETTINGS_MAX_HEADER_LIST_SIZE: "A server that
 * receives a larger field block than it is willing to handle can send an HTTP 431 (Request Header
 * Fields Too Large) status code" (10.5.1). The connection stays up.
 */
function rejectTooLarge(c: Http2ServerConnection, id: number, endStream: boolean): void {
  countTooLarge(c);
  c.out.pushHeaders(id, c.encoder, [':status', '431'], true, c.peerSettings.frameSize);
  c.stats.streamsRefused++;
  if (endStream) {
    c.recentlyClosed.add(id);
    c.scheduleFlush();
  } else {
    c.sendRst(id, ErrorCode.NO_ERROR);
  }
  c.countProvokedReset();
}

/**
 * A field block past our SETTINGS_MAX_HEADER_LIST_SIZE. An honest client sends one now and then
 * (a metadata value that grew); a peer that keeps sending them is an HPACK bomb (CVE-2016-6581)
 * or probing: past MAX_TOO_LARGE per flood window the connection ends, not after a reset budget's
 * worth of 431s.
 */
function countTooLarge(c: Http2ServerConnection): void {
  c.stats.headersTooLarge++;
  c.keepalive.counters.headersTooLarge++;
  if ((c.tooLarge ??= new FloodCounter(MAX_TOO_LARGE, c.opts.floodWindowMs)).hit(Date.now())) {
    throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, 'too many oversized header blocks');
  }
}

function onTrailers(c: Http2ServerConnection, s: Http2ServerStream, f: HeadersFrame): void {
  const id = s.id;
  let trailers: string[];
  try {
    trailers = decodeBlock(c, f);
  } catch (e) {
    if (e instanceof HeaderListTooLargeError) {
      countTooLarge(c);
      throw new StreamError(id, ErrorCode.ENHANCE_YOUR_CALM, 'trailer section too large');
    }
    throw e;
  }
  // half-closed (remote): "If an endpoint receives additional frames, other than WINDOW_UPDATE,
  // PRIORITY, or RST_STREAM, for a stream that is in this state, it MUST respond with a stream
  // error of type STREAM_CLOSED." (5.1)
  if (s.remoteEnded) throw new StreamError(id, ErrorCode.STREAM_CLOSED, 'HEADERS after END_STREAM');
  // "An endpoint that receives a HEADERS frame without the END_STREAM flag set after receiving the
  // HEADERS frame that opens a request ... MUST treat the corresponding request or response as
  // malformed" (8.1)
  if (!f.endStream) throw new StreamError(id, ErrorCode.PROTOCOL_ERROR, 'trailers without END_STREAM');
  validateTrailers(id, trailers);
  checkLengthAtEnd(s);
  s.deliverEnd(trailers);
}

/** "A request or response is also malformed if the value of a content-length header field does
 * not equal the sum of the DATA frame payload lengths that form the content" (8.1.1) */
function checkLengthAtEnd(s: Http2ServerStream): void {
  if (s.lengthLeft > 0) {
    throw new StreamError(s.id, ErrorCode.PROTOCOL_ERROR, 'content-length does not match DATA');
  }
}

function onData(c: Http2ServerConnection, f: DataFrame): void {
  const id = f.streamId;
  const len = f.flowLength;
  const data = f.data;
  f.data = EMPTY;
  // "A receiver MAY respond with a stream error or connection error of type FLOW_CONTROL_ERROR
  // if it is unable to accept a frame." / "A sender MUST NOT send a flow-controlled frame with a
  // length that exceeds the space available in either of the flow-control windows" (6.9.1)
  if (len > c.connRecvWindow) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'DATA beyond the connection window');
  // The connection window is given back whatever happens to the stream.
  connDataReceived(c, len);
  const s = c.byId(id);
  if (s === undefined) {
    // idle: "Receiving any frame other than HEADERS or PRIORITY on a stream in this state MUST be
    // treated as a connection error of type PROTOCOL_ERROR." (5.1)
    if (isIdle(c, id)) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `DATA on idle stream ${id}`);
    onClosedStream(c, id, 'DATA');
    return;
  }
  if (s.remoteEnded) throw new StreamError(id, ErrorCode.STREAM_CLOSED, 'DATA after END_STREAM');
  if (len > s.recvWindow) throw new StreamError(id, ErrorCode.FLOW_CONTROL_ERROR, 'DATA beyond the stream window');
  s.recvWindow -= len;
  if (len === 0 && !f.endStream && c.floodEmptyData.hit(Date.now())) {
    throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, 'empty DATA flood');
  }
  const n = data.length;
  if (s.lengthLeft >= 0 && (s.lengthLeft -= n) < 0) {
    throw new StreamError(id, ErrorCode.PROTOCOL_ERROR, 'DATA beyond content-length');
  }
  if (f.endStream) checkLengthAtEnd(s);
  s.deliverData(data, len - n);
  if (f.endStream && !s.closed) s.deliverEnd(null);
}

function onRstStream(c: Http2ServerConnection, f: RstStreamFrame): void {
  const id = f.streamId;
  // "RST_STREAM frames MUST NOT be sent for a stream in the "idle" state. If a RST_STREAM frame
  // identifying an idle stream is received, the recipient MUST treat this as a connection error
  // of type PROTOCOL_ERROR." (6.4)
  if (isIdle(c, id)) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `RST_STREAM on idle stream ${id}`);
  c.stats.resetsReceived++;
  // Rapid reset (CVE-2023-44487): a peer that cancels more streams than it completes, past the
  // budget (limits.ts ResetBudget).
  if (c.resetBudget.spend(Date.now())) throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, 'RST_STREAM flood');
  const s = c.byId(id);
  if (s !== undefined) {
    c.closeStream(s, f.errorCode, false);
    c.recentlyPeerReset.add(id);
  }
  // A RST_STREAM on a stream already closed is ignored: "To avoid looping, an endpoint MUST NOT
  // send a RST_STREAM in response to a RST_STREAM frame." (5.4.2)
}

/**
 * A DATA, HEADERS or WINDOW_UPDATE frame on a stream that was opened and is closed now (the
 * connection still counted DATA against its window and decoded the field block of HEADERS).
 */
function onClosedStream(c: Http2ServerConnection, id: number, what: string): void {
  // "An endpoint MUST ignore frames that it receives on closed streams after it has sent a
  // RST_STREAM frame." (5.1) Within the memory of RecentIds; also after our RST_STREAM(NO_ERROR)
  // that follows a complete response (8.1).
  if (c.recentlyReset.has(id)) return;
  // "An endpoint that receives any frame other than PRIORITY after receiving a RST_STREAM MUST
  // treat that as a stream error (Section 5.4.2) of type STREAM_CLOSED." (5.1)
  if (c.recentlyPeerReset.has(id)) {
    throw new StreamError(id, ErrorCode.STREAM_CLOSED, `${what} on stream ${id} after its RST_STREAM`);
  }
  // closed by END_STREAM both ways: "WINDOW_UPDATE or RST_STREAM frames can be received in this
  // state for a short period after a DATA or HEADERS frame containing an END_STREAM flag is sent"
  // (5.1): ignored.
  if (what === 'WINDOW_UPDATE') return;
  // Otherwise: "If a DATA frame is received whose stream is not in the "open" or "half-closed
  // (local)" state, the recipient MUST respond with a stream error of type STREAM_CLOSED." (6.1);
  // for a stream both sides ended (or long forgotten) we end the connection: "An endpoint MAY treat
  // receipt of any other type of frame on a closed stream as a connection error (Section 5.4.1) of
  // type STREAM_CLOSED" (5.1)
  throw new ConnectionError(ErrorCode.STREAM_CLOSED, `${what} on closed stream ${id}`);
}

function onSettings(c: Http2ServerConnection, f: SettingsFrame): void {
  if (f.ack) {
    localSettingsAcked(c);
    return;
  }
  c.stats.settingsReceived++;
  if (c.floodSettings.hit(Date.now())) throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, 'SETTINGS flood');
  c.peerHandshakeDone();
  const ps = c.peerSettings;
  const delta = ps.apply(f.settings);
  if (delta !== 0) peerInitialWindowChanged(c, delta);
  setEncoderTableSize(c, ps.tableSize);
  // "Once all values have been processed, the recipient MUST immediately emit a SETTINGS frame
  // with the ACK flag set." (6.5.3)
  c.out.pushFrameHeader(0, FrameType.SETTINGS, Flag.ACK, 0);
  c.scheduleFlush();
}

function onWindowUpdate(c: Http2ServerConnection, f: WindowUpdateFrame): void {
  const id = f.streamId;
  if (id === 0) {
    // "A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a flow-control window
    // increment of 0 as a stream error of type PROTOCOL_ERROR; errors on the connection
    // flow-control window MUST be treated as a connection error" (6.9)
    if (f.increment === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, ZERO_INCREMENT);
    connWindowUpdate(c, f.increment);
    return;
  }
  if (isIdle(c, id)) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${id}`);
  if (f.increment === 0) throw new StreamError(id, ErrorCode.PROTOCOL_ERROR, ZERO_INCREMENT);
  const s = c.byId(id);
  if (s !== undefined) streamWindowUpdate(c, s, f.increment);
  else onClosedStream(c, id, 'WINDOW_UPDATE');
}
