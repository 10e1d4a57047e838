// Server credentials, shaped like grpc-js's ServerCredentials.
import type { TlsOptions } from 'node:tls';
import { nodeCrypto, nodeTls } from './builtins.js';

export interface KeyCertPair {
  private_key: Buffer;
  cert_chain: Buffer;
}

export class ServerCredentials {
  private constructor(private readonly tls: TlsOptions | null) {}

  /** Plain TCP (h2c with prior knowledge), as gRPC clients speak it without TLS. */
  static createInsecure(): ServerCredentials {
    return new ServerCredentials(null);
  }

  /**
   * TLS with ALPN "h2" (and "http/1.1", see below). `rootCerts` are the CAs client certificates are checked against;
   * `checkClientCertificate` true requires and verifies a client certificate (mutual TLS).
   */
  static createSsl(
    rootCerts: Buffer | null,
    keyCertPairs: KeyCertPair[],
    checkClientCertificate = false,
  ): ServerCredentials {
    if (!Array.isArray(keyCertPairs) || keyCertPairs.length === 0) {
      throw new TypeError('createSsl: at least one { private_key, cert_chain } pair is required');
    }
    for (const p of keyCertPairs) {
      if (!Buffer.isBuffer(p.private_key) || !Buffer.isBuffer(p.cert_chain)) {
        throw new TypeError('createSsl: private_key and cert_chain must be Buffers');
      }
    }
    if (rootCerts !== null && !Buffer.isBuffer(rootCerts)) throw new TypeError('createSsl: rootCerts must be a Buffer or null');
    if (checkClientCertificate && rootCerts === null) {
      throw new TypeError('createSsl: checking client certificates needs rootCerts');
    }
    // Load them now: a bad PEM or a key that does not match its certificate is an error here, not
    // at bind() or at the first handshake.
    keyCertPairs.forEach((p, i) => {
      try {
        nodeTls().createSecureContext({ key: p.private_key, cert: p.cert_chain });
      } catch (err) {
        throw new TypeError(`createSsl: key/certificate pair ${i} cannot be used: ${(err as Error).message}`);
      }
    });
    if (rootCerts !== null) {
      // node:tls ignores a CA bundle it cannot parse (every client certificate would then fail
      // verification without a word); X509Certificate parses the first certificate or throws.
      try {
        new (nodeCrypto().X509Certificate)(rootCerts);
      } catch (err) {
        throw new TypeError(`createSsl: rootCerts cannot be used: ${(err as Error).message}`);
      }
    }
    return new ServerCredentials({
      key: keyCertPairs.map((p) => p.private_key),
      cert: keyCertPairs.map((p) => p.cert_chain),
      ...(rootCerts !== null ? { ca: rootCerts } : {}),
      requestCert: checkClientCertificate,
      rejectUnauthorized: checkClientCertificate,
      // RFC 9113 section 3.2: "The string "h2" identifies the protocol where HTTP/2 uses TLS."
      // http/1.1 too, for clients that speak nothing else: the server's Http1Hook (web protocols,
      // metrics) serves them, or its 505 tells them this port speaks gRPC over HTTP/2.
      ALPNProtocols: ['h2', 'http/1.1'],
    });
  }

  /** True for TLS credentials. */
  get secure(): boolean {
    return this.tls !== null;
  }

  /** The node:tls server options (internal). */
  tlsOptions(): TlsOptions | null {
    return this.tls === null ? null : { ...this.tls };
  }
}
