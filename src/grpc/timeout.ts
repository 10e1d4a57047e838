// grpc-timeout (gRPC over HTTP/2 spec, "Requests"):
//   Timeout      -> "grpc-timeout" TimeoutValue TimeoutUnit
//   TimeoutValue -> {positive integer as ASCII string of at most 8 digits}
//   TimeoutUnit  -> Hour "H" / Minute "M" / Second "S" / Millisecond "m" / Microsecond "u" / Nanosecond "n"

export type TimeoutResult = { ok: true; ms: number } | { ok: false; error: string };

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/**
 * Parse a grpc-timeout value into milliseconds (fractions kept: "500u" is 0.5 ms). Never throws:
 * a malformed value comes back as `{ ok: false, error }` (the call layer answers INTERNAL, as
 * grpc-go does for a malformed grpc-timeout).
 */
export function parseTimeout(value: string): TimeoutResult {
  const n = value.length;
  if (n < 2 || n > 9) return { ok: false, error: `grpc-timeout "${value}": expected 1 to 8 digits and a unit` };
  const unit = UNIT_MS[value[n - 1]!];
  if (unit === undefined) return { ok: false, error: `grpc-timeout "${value}": unknown unit` };
  let v = 0;
  for (let i = 0; i < n - 1; i++) {
    const c = value.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return { ok: false, error: `grpc-timeout "${value}": value is not a decimal integer` };
    v = v * 10 + c;
  }
  return { ok: true, ms: v * unit };
}

/** Encode a timeout in ms the way a client would (used by tests and for symmetry). */
export function encodeTimeout(ms: number): string {
  if (ms <= 0) return '0n';
  const units: [string, number][] = [['m', 1], ['S', 1000], ['M', 60_000], ['H', 3_600_000]];
  for (const [u, f] of units) {
    const v = Math.ceil(ms / f);
    if (v < 1e8) return `${v}${u}`;
  }
  return '99999999H';
}
