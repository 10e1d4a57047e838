// The fixed-size job queue that stands where other servers put a thread pool.
//
// Node runs handlers on one thread, so "a worker" here is a running slot: at most `maxRunning`
// calls have their handler running at once (started and not yet done; an async handler awaiting
// I/O still holds its slot). Beyond that, up to `maxWaiting` calls are accepted and wait in FIFO
// order in a preallocated ring buffer; past both bounds a call is rejected at once (the server
// answers RESOURCE_EXHAUSTED) instead of queueing without limit on a board with little memory.
//
// Rules for the caller (the gRPC call layer):
// - Call `admit(job)`. 'run': `job.start()` has already been called. 'queued': it will be called
//   later, from inside some other job's `done()`. 'rejected': it never will be.
// - When a started job finishes (handler settled and status sent, or the call was cancelled while
//   running), call `done(job)` exactly once: that frees the slot and starts the oldest waiting job.
// - Streaming calls (server, client and bidi streaming) hold their running slot for the WHOLE
//   call, until the status is sent; they are not re-queued per message, but may park (below).
// - Time spent waiting counts against the call's deadline. The caller arms its deadline timer
//   BEFORE admission; if the deadline fires (or the client cancels) while the job is still waiting,
//   the caller calls `cancel(job)` (which then returns true and start() will never be called) and
//   answers DEADLINE_EXCEEDED / drops the call. If cancel() returns false the job is running (or
//   unknown) and the usual abort path plus done() apply.
//
// Allocation: the ring buffer and the running-slot table are allocated in the constructor; admit,
// done and cancel allocate nothing (the job object is the caller's). done() and cancel() scan a
// table bounded by maxRunning / maxWaiting, which are small on the boards this targets.
//
// Fairness between owners (a job's `owner`: its connection). The queue counts the slots each owner
// holds (running + waiting, in `owner.held`). A freed running slot goes to the oldest waiting job of
// the owner holding fewest; with one job per owner that is plain FIFO. At a full queue (after
// onFull) a newcomer whose owner holds fewer than the heaviest owner's count minus one takes the
// place of that owner's newest waiting job, which is dropped (onDrop: the caller refuses it as it
// would a rejected job): one busy connection cannot lock out the others (drop from the longest
// queue). Jobs without an owner count as owners of one job.
//
// Parking: a running job that waits on its client, not on the server (src/grpc/call.ts: a
// response blocked on flow control), may park(): its running slot goes to the next job at once,
// and it stays counted in its owner's share. When it can go on it calls resume(): it takes the next
// free running slot before any waiting job (start() is called again then). At most `maxWaiting`
// jobs are parked; when every place is taken, onFull is offered the parked jobs first (it may end
// one); if it ends none, park() returns false and the job keeps its running slot. A parked job
// ends with done() as a running one does. So at most maxRunning + maxWaiting jobs are started and
// not done, plus maxWaiting waiting.
//
// Cancellation is lazy in the ring (the slot becomes a hole that is skipped when it reaches the
// head) but the waiting count drops at once. If holes fill the ring while fewer than maxWaiting
// jobs are live, admit compacts it in place.
import { RingBuffer } from './ring-buffer.js';

/** What jobs of one connection share: the slots they hold, kept by the queue (start undefined or 0). */
export interface QueueOwner {
  held?: number;
}

export interface QueueJob {
  /** Whose share the job counts in (src/grpc/call.ts: its connection's PeerInfo). */
  readonly owner?: QueueOwner | undefined;
  /**
   * Called when the job gets a running slot: synchronously inside admit() or later inside another
   * job's done() (once; again each time a parked job gets a slot back, see park()). Should not throw: if it does inside admit() the slot is released and the
   * error propagates to admit()'s caller; inside done() the slot is released and the error goes
   * to the queue's `onStartError`.
   */
  start(): void;
}

export type AdmitResult = 'run' | 'queued' | 'rejected';

export interface JobQueueOptions {
  /** Jobs running at once (>= 1). */
  maxRunning: number;
  /** Jobs accepted but waiting for a running slot (>= 0). */
  maxWaiting: number;
  /** Receives errors thrown by a job's start() when it is started from done(). Default: a process warning. */
  onStartError?: (error: unknown, job: QueueJob) => void;
  /**
   * Asked when a job arrives and every running and waiting slot is taken: "can you make room?".
   * It gets the running jobs (packed at [0, count)) and may end one of them (done() included);
   * if that freed a slot the new job is admitted, else rejected. Also asked by park() when every
   * parking place is taken, with the parked jobs: ending one of them makes room.
   */
  onFull?: (running: readonly (QueueJob | null)[], count: number) => void;
  /** A waiting job dropped for a newcomer of a lighter owner (see above); it will never start. */
  onDrop?: (job: QueueJob) => void;
  /** A job was queued to wait (not run at once). */
  onQueued?: () => void;
}

export interface JobQueueStats {
  running: number;
  waiting: number;
  rejected: number;
  completed: number;
  cancelled: number;
  /** Waiting jobs dropped for a newcomer whose owner held fewer slots (onDrop). */
  fairDropped: number;
  /** Jobs parked now: off their running slot while they wait on their client (park()). */
  parked: number;
  maxRunning: number;
  maxWaiting: number;
}

function defaultOnStartError(error: unknown): void {
  process.emitWarning(`grpc-edge: a queued job threw from start(): ${String(error)}`, 'JobQueueWarning');
}

function checkBound(name: string, n: number, min: number): number {
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${n}`);
  return n;
}

export class JobQueue {
  readonly maxRunning: number;
  readonly maxWaiting: number;
  readonly #onStartError: (error: unknown, job: QueueJob) => void;
  readonly #onFull: JobQueueOptions['onFull'];
  readonly #onDrop: JobQueueOptions['onDrop'];
  readonly #onQueued: JobQueueOptions['onQueued'];
  private readonly waitingJobs: RingBuffer<QueueJob>;
  /** Running jobs packed at [0, running): removal swaps the last one into the hole. */
  readonly runningJobs: (QueueJob | null)[];
  /** Parked jobs packed at [0, #parkedCount); at [0, resuming) those that asked resume(), in order. */
  readonly #parked: (QueueJob | null)[];
  #parkedCount = 0;
  #resuming = 0;
  private runningCount = 0;
  private waitingCount = 0;
  private rejectedCount = 0;
  private completedCount = 0;
  private cancelledCount = 0;
  private droppedCount = 0;
  /** True while done() is starting waiting jobs, so a start() that calls done() does not recurse. */
  private draining = false;

  constructor(options: JobQueueOptions) {
    this.maxRunning = checkBound('maxRunning', options.maxRunning, 1);
    this.maxWaiting = checkBound('maxWaiting', options.maxWaiting, 0);
    this.#onStartError = options.onStartError ?? defaultOnStartError;
    this.#onFull = options.onFull;
    this.#onDrop = options.onDrop;
    this.#onQueued = options.onQueued;
    this.waitingJobs = new RingBuffer<QueueJob>(Math.max(1, this.maxWaiting));
    this.runningJobs = new Array<QueueJob | null>(this.maxRunning).fill(null);
    this.#parked = new Array<QueueJob | null>(this.maxWaiting).fill(null);
  }

  get running(): number {
    return this.runningCount;
  }

  get waiting(): number {
    return this.waitingCount;
  }

  /** A snapshot of the counters (allocates one small object: for monitoring, not hot paths). */
  get stats(): JobQueueStats {
    return {
      running: this.runningCount,
      waiting: this.waitingCount,
      rejected: this.rejectedCount,
      completed: this.completedCount,
      cancelled: this.cancelledCount,
      fairDropped: this.droppedCount,
      parked: this.#parkedCount,
      maxRunning: this.maxRunning,
      maxWaiting: this.maxWaiting,
    };
  }

  /**
   * Run the job now if a slot is free and nobody waits (FIFO: a newcomer never overtakes a
   * waiting job), else queue it if there is room, else reject it.
   */
  admit(job: QueueJob): AdmitResult {
    if (this.waitingCount === 0 && this.runningCount < this.maxRunning) {
      this.addRunning(job);
      this.#hold(job);
      try {
        job.start();
      } catch (err) {
        this.removeRunning(job);
        this.#release(job);
        throw err;
      }
      return 'run';
    }
    const ring = this.waitingJobs;
    if (this.waitingCount >= this.maxWaiting) {
      // Full: ask onFull once per freed slot (the recursion ends: each round holds fewer jobs).
      const room = this.#onFull;
      const held = this.runningCount + this.waitingCount;
      if (room !== undefined && (room(this.runningJobs, this.runningCount), this.runningCount + this.waitingCount < held)) {
        return this.admit(job);
      }
      // Else the heaviest owner's newest waiting job gives way, if that owner holds more than one
      // slot more than the newcomer's (from the newest: the first of the most is its newest).
      let most = (job.owner?.held ?? 0) + 1;
      let drop = -1;
      for (let i = ring.length; i-- > 0; ) {
        const n = ring.at(i)?.owner?.held ?? 0;
        if (n > most) (most = n), (drop = i);
      }
      if (drop < 0) {
        this.rejectedCount++;
        return 'rejected';
      }
      const out = ring.clearAt(drop)!;
      this.waitingCount--;
      this.droppedCount++;
      this.#release(out);
      this.#onDrop?.(out);
    }
    // Holes left by cancel() can fill the ring while fewer than maxWaiting jobs are live.
    if (ring.isFull()) ring.compact();
    ring.push(job);
    this.waitingCount++;
    this.#hold(job);
    this.#onQueued?.();
    return 'queued';
  }

  /**
   * A running (or parked) job finished: free its slot and start waiting jobs while slots are free.
   * Returns false (and changes nothing) if the job was neither, e.g. a second done().
   */
  done(job: QueueJob): boolean {
    if (!this.removeRunning(job) && !this.#unpark(this.#parked.indexOf(job))) return false;
    this.#release(job);
    this.completedCount++;
    this.#drain();
    return true;
  }

  /**
   * The running job waits on its client: its slot goes to the next job. False (nothing changed)
   * when it is not running, or every parking place is taken and onFull ended none of them.
   */
  park(job: QueueJob): boolean {
    if (!this.isRunning(job)) return false;
    if (this.#parkedCount >= this.maxWaiting) this.#onFull?.(this.#parked, this.#parkedCount);
    if (this.#parkedCount >= this.maxWaiting || !this.removeRunning(job)) return false;
    this.#parked[this.#parkedCount++] = job;
    this.#drain();
    return true;
  }

  /**
   * The parked job can go on: it gets the next free running slot before any waiting job, now if
   * one is free; its start() is called then. Nothing happens if it is not parked or asked already.
   */
  resume(job: QueueJob): void {
    const p = this.#parked;
    const i = p.indexOf(job);
    if (i < this.#resuming) return;
    p[i] = p[this.#resuming]!;
    p[this.#resuming++] = job;
    this.#drain();
  }

  /**
   * Withdraw a waiting job (its deadline passed or the client went away). Returns true if it was
   * waiting: it will never be started. Returns false if it is running or unknown to the queue.
   */
  cancel(job: QueueJob): boolean {
    const ring = this.waitingJobs;
    const i = ring.indexOf(job);
    if (i < 0) return false;
    ring.clearAt(i);
    this.waitingCount--;
    this.cancelledCount++;
    this.#release(job);
    // Nothing live is left: drop the holes now so the ring starts clean.
    if (this.waitingCount === 0) ring.clear();
    return true;
  }

  /** Whether the job is waiting (admitted, not started, not cancelled). */
  isWaiting(job: QueueJob): boolean {
    return this.waitingJobs.indexOf(job) >= 0;
  }

  /** Whether the job holds a running slot. */
  isRunning(job: QueueJob): boolean {
    return this.runningIndex(job) >= 0;
  }

  /**
   * Withdraw the waiting jobs `match` picks (counted as cancelled; they will never be started),
   * calling `each` on every one once it has left the line, so the caller can end it. The others
   * keep their FIFO order. For onFull: the server drops a shed call's connection-mates
   * (`() => true` withdraws every waiting job).
   */
  dropWaiting(match: (job: QueueJob) => boolean, each: (job: QueueJob) => void): number {
    const ring = this.waitingJobs;
    let n = 0;
    for (let i = 0; i < ring.length; i++) {
      const job = ring.at(i);
      if (job == null || !match(job)) continue;
      ring.clearAt(i);
      this.waitingCount--;
      this.cancelledCount++;
      this.#release(job);
      n++;
      each(job);
    }
    if (this.waitingCount === 0) ring.clear();
    return n;
  }

  #drain(): void {
    if (this.draining) return; // the outer drain loop picks up the freed slot
    this.draining = true;
    const ring = this.waitingJobs;
    try {
      while (this.runningCount < this.maxRunning) {
        let next: QueueJob | null | undefined;
        if (this.#resuming > 0) {
          // A parked job that can go on first: it was started before any waiting job.
          next = this.#parked[0]!;
          this.#unpark(0);
        } else if (this.waitingCount > 0) {
          // The oldest waiting job of the owner holding fewest slots (1: it cannot be beaten).
          let at = -1;
          let least = Infinity;
          for (let i = 0; i < ring.length && least > 1; i++) {
            const j = ring.at(i);
            const n = j == null ? Infinity : j.owner?.held ?? 1;
            if (n < least) (least = n), (at = i);
          }
          next = ring.clearAt(at);
          if (next == null) break; // unreachable while waitingCount is right
          this.waitingCount--;
          if (this.waitingCount === 0) ring.clear();
        } else break;
        this.addRunning(next);
        try {
          next.start();
        } catch (err) {
          this.removeRunning(next);
          this.#release(next);
          this.#onStartError(err, next);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Take the parked job at `i` out (order kept): false when `i` is -1 (not parked). */
  #unpark(i: number): boolean {
    if (i < 0) return false;
    const p = this.#parked;
    p.copyWithin(i, i + 1, this.#parkedCount);
    p[--this.#parkedCount] = null;
    if (i < this.#resuming) this.#resuming--;
    return true;
  }

  #hold(job: QueueJob): void {
    const o = job.owner;
    if (o !== undefined) o.held = (o.held ?? 0) + 1;
  }

  #release(job: QueueJob): void {
    const o = job.owner;
    if (o !== undefined) o.held!--;
  }

  private addRunning(job: QueueJob): void {
    this.runningJobs[this.runningCount++] = job;
  }

  private runningIndex(job: QueueJob): number {
    const jobs = this.runningJobs;
    for (let i = this.runningCount - 1; i >= 0; i--) if (jobs[i] === job) return i;
    return -1;
  }

  private removeRunning(job: QueueJob): boolean {
    const i = this.runningIndex(job);
    if (i < 0) return false;
    const last = --this.runningCount;
    this.runningJobs[i] = this.runningJobs[last]!;
    this.runningJobs[last] = null;
    return true;
  }
}
