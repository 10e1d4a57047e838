// What the HTTP/2 layer offers the layer above (gRPC). The gRPC layer sees streams and
// header lists, never sockets or frames.
//
// Header lists are flat arrays: [name0, value0, name1, value1, ...]. Names are lower-case;
// values are latin1 strings (each char one octet), so any octet string survives a round trip.

export type HeaderList = string[];

/** Limits and settings of one server connection; every one has a default (see connection.ts). */
export interface Http2Options {
  /** SETTINGS_MAX_CONCURRENT_STREAMS we advertise; a HEADERS past it gets RST_STREAM(REFUSED_STREAM). */
  maxConcurrentStreams?: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE we advertise: the per-stream receive window. */
  initialWindowSize?: number;
  /** The connection-level receive window (raised from 65535 by a WINDOW_UPDATE at start). */
  connectionWindowSize?: number;
  /** SETTINGS_MAX_FRAME_SIZE we advertise. */
  maxFrameSize?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE we advertise and enforce (octets, RFC 7541 section 4.1 sizing). */
  maxHeaderListSize?: number;
  /** SETTINGS_HEADER_TABLE_SIZE we advertise for our decoder. */
  headerTableSize?: number;
  /** CONTINUATION frames allowed after one HEADERS frame. */
  maxContinuationFrames?: number;
  /**
   * Reset budget: RST_STREAM frames a peer may send (or provoke) in a row before ENHANCE_YOUR_CALM;
   * refilled by one per completed stream and by this many per `floodWindowMs` (limits.ts ResetBudget).
   */
  maxResetsPerWindow?: number;
  /** PING frames a peer may send per `floodWindowMs`. */
  maxPingsPerWindow?: number;
  /** SETTINGS frames a peer may send per `floodWindowMs`. */
  maxSettingsPerWindow?: number;
  /** DATA frames with an empty payload and no END_STREAM a peer may send per `floodWindowMs`. */
  maxEmptyDataPerWindow?: number;
  floodWindowMs?: number;
  /** GOAWAY (graceful) to a connection with no open stream for this long (0 = never). */
  maxConnectionIdleMs?: number;
  /** PING a connection silent for this long (0 = never); see keepalive.ts. */
  keepaliveTimeMs?: number;
  /** No answer to that PING within this long: the peer is gone, the connection is closed. */
  keepaliveTimeoutMs?: number;
  /** The client's PINGs closer together than this are strikes (0 = any rate). */
  minPingIntervalMs?: number;
  /** Allow the client's keepalive PINGs when no stream is open (else one per 2 hours). Default true. */
  permitKeepaliveWithoutCalls?: boolean;
  /** Strikes tolerated; the next one is GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings"). */
  maxPingStrikes?: number;
  /** Graceful GOAWAY after this long, +-10% (0 = never). */
  maxConnectionAgeMs?: number;
  /** After the age GOAWAY, calls still open after this long are cancelled (0 = wait for them). */
  maxConnectionAgeGraceMs?: number;
  /** Close a connection that has not sent its preface and SETTINGS within this time. */
  handshakeTimeoutMs?: number;
  /** Bytes we queue for a socket that does not read before we stop reading from it. */
  maxOutboundBufferBytes?: number;
  /**
   * Response data that waits this long for flow-control window (0 = off): the stream is reset
   * (RST_STREAM(ENHANCE_YOUR_CALM)), or, when it is the connection window, the connection gets
   * GOAWAY(ENHANCE_YOUR_CALM) and closes. Any WINDOW_UPDATE that lets data go starts it over.
   */
  sendStallTimeoutMs?: number;
}

/** Who is on the other end of a connection. */
export interface PeerInfo {
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** True over TLS. */
  secure: boolean;
  /** The peer's certificate when the connection is TLS with client authentication. */
  peerCertificate?: unknown;
  /** Job-queue slots the connection's calls hold (src/queue: QueueOwner). */
  held?: number;
}

/**
 * One request stream opened by the peer. The receive callbacks are set by the consumer in the
 * `onStream` callback before it returns; data that arrives before then is not lost.
 */
export interface ServerStream {
  readonly id: number;
  readonly peer: PeerInfo;
  /** The request's header list, pseudo-headers first as received. */
  readonly headers: HeaderList;

  /** A DATA payload (padding removed). The consumer may keep the buffer. */
  ondata: ((chunk: Buffer) => void) | null;
  /** The peer ended its side (END_STREAM); `trailers` when it ended with a HEADERS frame. */
  onend: ((trailers: HeaderList | null) => void) | null;
  /** Send window opened again after write() returned false. */
  ondrain: (() => void) | null;
  /**
   * The stream is closed, once: `code` is NO_ERROR (0) after both sides ended normally, else the
   * RST_STREAM code received from the peer or sent by us, or the connection's error code.
   */
  onclose: ((code: number) => void) | null;

  /**
   * Hand `n` octets of receive window back to the peer once they are consumed. Until the consumer
   * calls this, data it has not consumed holds the stream's window (backpressure on the peer).
   */
  consume(n: number): void;

  /** Send the response HEADERS. `endStream` true makes it a headers-only response. */
  respond(headers: HeaderList, endStream?: boolean): void;
  /** Queue DATA under flow control. False when the queue is past its mark: wait for ondrain. */
  write(data: Buffer): boolean;
  /** End our side: trailers as a HEADERS frame with END_STREAM, or an empty DATA with END_STREAM. */
  end(trailers?: HeaderList): void;
  /** Send RST_STREAM(code) and close the stream. */
  reset(code: number): void;
  /** True once the stream is closed in both directions or reset. */
  readonly closed: boolean;
  /**
   * The request is incomplete and nothing runs until it is: a peer that sends no DATA for
   * sendStallTimeoutMs before END_STREAM gets RST_STREAM(ENHANCE_YOUR_CALM) (keepalive.ts).
   */
  awaitEnd?(): void;
  /**
   * Since when (Date.now()) response DATA has been queued and blocked on flow-control window;
   * 0 when none is (or when sendStallTimeoutMs is 0: no stall clock runs).
   */
  readonly stalledSince?: number;
  /** Since when any response DATA of its connection has been blocked on window, uncleared by WINDOW_UPDATE (else 0). */
  readonly shownStall?: number;
}

/** A server connection as the layer above drives it. */
export interface ServerSession {
  readonly peer: PeerInfo;
  /**
   * Graceful (RFC 9113 6.8): GOAWAY(NO_ERROR, 2^31-1) and a PING; after its ACK (or 1 s)
   * GOAWAY(NO_ERROR) with the last stream id, refuse new streams, close when all are done.
   */
  shutdown(): void;
  /** Immediate: GOAWAY(code), reset every stream, destroy the socket. */
  destroy(code?: number): void;
  /** Number of streams open now. */
  readonly openStreams: number;
  /** Called once when the socket is closed. */
  onclose: (() => void) | null;
}
