// Message compression (gRPC over HTTP/2 spec and doc/compression.md):
//   "Message-Encoding -> "grpc-encoding" Content-Coding
//    Content-Coding -> "identity" / "gzip" / "deflate" / "snappy" / {custom}"
//   "Message-Accept-Encoding -> "grpc-accept-encoding" Content-Coding *("," Content-Coding)"
//   compression.md: "If a server receives a message compressed with an algorithm it does not
//    support, it MUST respond with UNIMPLEMENTED status and include a grpc-accept-encoding header
//    listing the supported algorithms"; "a Compressed-Flag bit of 1 ... [with] no grpc-encoding
//    header ... MUST be treated as a protocol error (INTERNAL)".
// "deflate" is the zlib format (RFC 1950), as every gRPC implementation sends it.
import { createRequire } from 'node:module';
import { GrpcError, Status } from './status.js';

// node:zlib is loaded by the first compressed message: most servers never need it.
type Zlib = typeof import('node:zlib');
let zlibModule: Zlib | undefined;
function zlib(): Zlib {
  return (zlibModule ??= createRequire(import.meta.url)('node:zlib') as Zlib);
}

export type Encoding = 'identity' | 'gzip' | 'deflate';
export const SUPPORTED_ENCODINGS: readonly Encoding[] = ['identity', 'deflate', 'gzip'];
/** The grpc-accept-encoding value we send. */
export const ACCEPT_ENCODING = SUPPORTED_ENCODINGS.join(',');

export function isSupportedEncoding(name: string): name is Encoding {
  return name === 'identity' || name === 'gzip' || name === 'deflate';
}

/** The codings the peer takes: every grpc-accept-encoding value in a request header list. */
export function parseAcceptEncoding(headers: readonly string[]): Set<string> {
  const out = new Set<string>(['identity']);
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (headers[i] !== 'grpc-accept-encoding') continue;
    for (const part of headers[i + 1]!.split(',')) {
      const v = part.trim();
      if (v.length > 0) out.add(v);
    }
  }
  return out;
}

/**
 * Decompress one message. The output is bounded by `maxLength` (the receive limit): a larger
 * result is RESOURCE_EXHAUSTED, corrupt input is INTERNAL.
 */
export function decompress(encoding: Encoding, data: Buffer, maxLength: number): Buffer {
  if (encoding === 'identity') {
    // The flag says compressed but the coding is identity: compression.md treats this as an error.
    throw new GrpcError(Status.INTERNAL, 'compressed flag set on a message with grpc-encoding identity');
  }
  // zlib's maxOutputLength must be >= 1; a limit of 0 still admits an empty message.
  const opts = { maxOutputLength: Math.max(1, Math.min(maxLength, 0x7fffffff)) };
  let out: Buffer;
  try {
    out = encoding === 'gzip' ? zlib().gunzipSync(data, opts) : zlib().inflateSync(data, opts);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new GrpcError(Status.RESOURCE_EXHAUSTED, `decompressed message larger than max (${maxLength})`);
    }
    throw new GrpcError(Status.INTERNAL, `could not decompress message (${encoding}): ${(err as Error).message}`);
  }
  if (out.length > maxLength) {
    throw new GrpcError(Status.RESOURCE_EXHAUSTED, `decompressed message larger than max (${out.length} vs. ${maxLength})`);
  }
  return out;
}

/** Compress one message payload. */
export function compress(encoding: 'gzip' | 'deflate', data: Uint8Array): Buffer {
  return encoding === 'gzip' ? zlib().gzipSync(data) : zlib().deflateSync(data);
}
