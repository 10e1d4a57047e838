// The HTTP/2 layer's public pieces: the server connection over any Duplex, its options and the
// stream/session interfaces the gRPC layer drives.
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Http2Options, PeerInfo, ServerStream } from './api.js';
import { Http2ServerConnection } from './connection.js';

export type { HeaderList, Http2Options, PeerInfo, ServerSession, ServerStream } from './api.js';
export { Http2ServerConnection, DEFAULT_HTTP2_OPTIONS, type Http2ConnectionStats } from './connection.js';
export { resolveOptions, type ResolvedHttp2Options } from './settings.js';
export { ConnectionError, StreamError, Http2Error, ErrorCode, errorCodeName } from './errors.js';

/** PeerInfo of a net.Socket or tls.TLSSocket (any Duplex: what it has of it). */
export function peerInfoOf(socket: Duplex): PeerInfo {
  const s = socket as Duplex & Partial<TLSSocket>;
  const secure = s.encrypted === true;
  const info: PeerInfo = { remoteAddress: s.remoteAddress, remotePort: s.remotePort, secure };
  if (secure && typeof s.getPeerCertificate === 'function') {
    const cert = s.getPeerCertificate();
    if (cert !== null && Object.keys(cert).length > 0) info.peerCertificate = cert;
  }
  return info;
}

/** Serve HTTP/2 (prior knowledge, or after ALPN 'h2') on `socket`; `onStream` gets each request. */
export function serveHttp2(
  socket: Duplex,
  peer: PeerInfo | null,
  options: Http2Options,
  onStream: (stream: ServerStream) => void,
): Http2ServerConnection {
  return new Http2ServerConnection(socket, peer ?? peerInfoOf(socket), options, onStream);
}
