// HTTP/2 error codes (RFC 9113 section 7) and the two kinds of failure (section 5.4):
// a ConnectionError ends the connection with GOAWAY, a StreamError ends one stream with RST_STREAM.
// Every protocol check in the codec and the connection throws one of these and nothing else.

// An enum (not a const object) so that esbuild writes each use as its number in bundles.
export enum ErrorCode {
  NO_ERROR = 0x0,
  PROTOCOL_ERROR = 0x1,
  INTERNAL_ERROR = 0x2,
  FLOW_CONTROL_ERROR = 0x3,
  SETTINGS_TIMEOUT = 0x4,
  STREAM_CLOSED = 0x5,
  FRAME_SIZE_ERROR = 0x6,
  REFUSED_STREAM = 0x7,
  CANCEL = 0x8,
  COMPRESSION_ERROR = 0x9,
  CONNECT_ERROR = 0xa,
  ENHANCE_YOUR_CALM = 0xb,
  INADEQUATE_SECURITY = 0xc,
  HTTP_1_1_REQUIRED = 0xd,
}

/** The RFC name of an error code, or `UNKNOWN_0x..` for codes it does not define. */
export function errorCodeName(code: number): string {
  // The enum's reverse mapping: ErrorCode[1] === 'PROTOCOL_ERROR'.
  return (ErrorCode as unknown as Record<number, string | undefined>)[code] ?? `UNKNOWN_0x${code.toString(16)}`;
}

export abstract class Http2Error extends Error {
  abstract readonly kind: 'connection' | 'stream';
  constructor(readonly code: number, message: string) {
    super(`${errorCodeName(code)}: ${message}`);
  }
}

/** Fatal for the connection: answer with GOAWAY(code) and close. */
export class ConnectionError extends Http2Error {
  readonly kind = 'connection' as const;
  override name = 'ConnectionError';
}

/** Fatal for one stream only: answer with RST_STREAM(code) on `streamId`, the connection goes on. */
export class StreamError extends Http2Error {
  readonly kind = 'stream' as const;
  override name = 'StreamError';
  constructor(readonly streamId: number, code: number, message: string) {
    super(code, message);
  }
}
