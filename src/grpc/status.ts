// gRPC status codes (doc/statuscodes.md of the gRPC project) and the error type handlers throw.
import { Metadata } from './metadata.js';

export enum Status {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

export function isValidStatus(code: unknown): code is Status {
  return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 16;
}

/**
 * A gRPC status as an Error. Throw it (or reject with it) from a handler or an interceptor to end
 * the call with `code`, `details` as grpc-message and `metadata` added to the trailers.
 */
export class GrpcError extends Error {
  override name = 'GrpcError';
  readonly code: Status;
  readonly details: string;
  readonly metadata: Metadata;

  constructor(code: Status, details = '', metadata?: Metadata) {
    super(`${Status[code] ?? code}: ${details}`);
    this.code = isValidStatus(code) ? code : Status.UNKNOWN;
    this.details = details;
    this.metadata = metadata ?? new Metadata();
  }

  /**
   * Any thrown value as a GrpcError: a GrpcError as is; an object with a valid numeric `code`
   * keeps it (grpc-js style `{ code, details, metadata }` errors; 0 = OK becomes UNKNOWN, as a thrown
   * error is never a success); anything else is UNKNOWN with
   * the error's message (the message only, never a stack).
   */
  static from(err: unknown): GrpcError {
    if (err instanceof GrpcError) return err;
    if (typeof err === 'object' && err !== null) {
      const e = err as { code?: unknown; details?: unknown; message?: unknown; metadata?: unknown };
      const details =
        typeof e.details === 'string' ? e.details : typeof e.message === 'string' ? e.message : String(err);
      const md = e.metadata instanceof Metadata ? e.metadata : undefined;
      if (isValidStatus(e.code) && e.code !== Status.OK) return new GrpcError(e.code, details, md);
      return new GrpcError(Status.UNKNOWN, details, md);
    }
    return new GrpcError(Status.UNKNOWN, err === undefined ? 'unknown error' : String(err));
  }
}
