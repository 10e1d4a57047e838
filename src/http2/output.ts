// The connection's outbound queue: frames written during one tick go to the socket in one batch
// (one write, or one corked writev), DATA payloads are queued as slices and never copied; only
// runs of small buffers (frame headers, control frames) are joined into one buffer.
import type { Duplex } from 'node:stream';

/** Buffers smaller than this are joined with their small neighbours before writing. */
const SMALL = 1024;
/** ...into joined buffers of at most this size. */
const JOIN_LIMIT = 16384;

export class Output {
  private chunks: Buffer[] = [];
  private run: Buffer[] = [];
  /** Octets queued here and not yet handed to the socket. */
  bytes = 0;
  /** Queued buffers of SMALL octets or more (never copied). */
  private big = 0;

  constructor(private readonly socket: Duplex) {}

  push(buf: Buffer): void {
    this.chunks.push(buf);
    this.bytes += buf.length;
    if (buf.length >= SMALL) this.big++;
  }

  get length(): number {
    return this.chunks.length;
  }

  /** Drop everything queued (the socket is gone). */
  clear(): void {
    this.chunks.length = 0;
    this.bytes = 0;
    this.big = 0;
  }

  /** Hand every queued buffer to the socket. Returns socket.write's verdict (false: wait for 'drain'). */
  writeAll(): boolean {
    const chunks = this.chunks;
    const n = chunks.length;
    if (n === 0) return true;
    const socket = this.socket;
    let ok = true;
    if (n === 1) {
      ok = socket.write(chunks[0]!);
    } else if (this.big === 0 && this.bytes <= JOIN_LIMIT) {
      ok = socket.write(Buffer.concat(chunks, this.bytes));
    } else {
      socket.cork();
      const run = this.run;
      let runBytes = 0;
      for (let i = 0; i < n; i++) {
        const c = chunks[i]!;
        if (c.length < SMALL) {
          if (runBytes + c.length > JOIN_LIMIT) {
            ok = writeRun(socket, run, runBytes) && ok;
            runBytes = 0;
          }
          run.push(c);
          runBytes += c.length;
          continue;
        }
        if (runBytes > 0) {
          ok = writeRun(socket, run, runBytes) && ok;
          runBytes = 0;
        }
        ok = socket.write(c) && ok;
      }
      if (runBytes > 0) ok = writeRun(socket, run, runBytes) && ok;
      socket.uncork();
    }
    chunks.length = 0;
    this.bytes = 0;
    this.big = 0;
    return ok;
  }
}

function writeRun(socket: Duplex, run: Buffer[], bytes: number): boolean {
  const ok = socket.write(run.length === 1 ? run[0]! : Buffer.concat(run, bytes));
  run.length = 0;
  return ok;
}
