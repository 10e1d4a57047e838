// Graceful shutdown in two steps (RFC 9113 section 6.8): "A server that is attempting to
// gracefully shut down a connection SHOULD send an initial GOAWAY frame with the last stream
// identifier set to 2^31-1 and a NO_ERROR code. This signals to the client that a shutdown is
// imminent and that initiating further requests is prohibited. After allowing time for any
// in-flight stream creation (at least one round-trip time), the server MAY send another GOAWAY
// frame with an updated last stream identifier. This ensures that a connection can be cleanly shut
// down without losing requests."
//
// The round trip is a PING sent right after the first GOAWAY: the client answers it after it has
// read the GOAWAY, so every stream it opened before knowing arrives before the ACK. Its ACK, or
// SHUTDOWN_PING_TIMEOUT_MS for a peer that does not answer, sends the final GOAWAY (the connection's
// drain()): the last stream id actually processed, later streams refused.
import type { Http2ServerConnection } from './connection.js';
import { ErrorCode } from './errors.js';
import { encodeGoaway, encodePing } from './frame/write.js';

/** How long the first GOAWAY waits for its PING ACK before the final one. */
export const SHUTDOWN_PING_TIMEOUT_MS = 1000;
/** The payload of that PING (8 octets), to tell its ACK from the ACKs of other PINGs. */
const SHUTDOWN_PING = Buffer.from('shutdown', 'latin1');
/** The largest stream id: the last stream id of the first GOAWAY. */
const MAX_STREAM_ID = 0x7fffffff;

export class GracefulShutdown {
  /** The first GOAWAY went out; the final one has not. */
  pending = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly c: Http2ServerConnection) {}

  /** Step one: GOAWAY(NO_ERROR, 2^31-1) and the PING. New streams are still accepted. */
  start(): void {
    if (this.pending) return;
    const c = this.c;
    this.pending = true;
    c.recordGoaway(ErrorCode.NO_ERROR, 'shutdown');
    c.out.push(encodeGoaway(MAX_STREAM_ID, ErrorCode.NO_ERROR));
    c.out.push(encodePing(SHUTDOWN_PING, false));
    this.timer = setTimeout(this.#finish, SHUTDOWN_PING_TIMEOUT_MS);
    this.timer.unref();
    c.scheduleFlush();
  }

  /** A PING ACK arrived: the one of our PING ends step one. */
  pingAcked(data: Buffer): void {
    if (this.pending && data.equals(SHUTDOWN_PING)) this.#finish();
  }

  /** The connection is closing for another reason: no final GOAWAY. */
  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pending = false;
  }

  /** Step two: the final GOAWAY with the last stream id processed. */
  readonly #finish = (): void => {
    this.cancel();
    this.c.drain();
  };
}
