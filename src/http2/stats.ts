// The counters of one server connection (Http2ServerConnection.stats).

/** Counters a test (or a metrics endpoint) can read. */
export interface Http2ConnectionStats {
  streamsOpened: number;
  streamsRefused: number;
  resetsReceived: number;
  resetsSent: number;
  pingsReceived: number;
  settingsReceived: number;
  /** Field blocks past our SETTINGS_MAX_HEADER_LIST_SIZE (answered 431, or a reset stream). */
  headersTooLarge: number;
  /** The code of the GOAWAY we sent (null: none yet) and why. */
  goawayCode: number | null;
  goawayReason: string | null;
  /** The code of the GOAWAY the peer sent (null: none). */
  goawayReceived: number | null;
  /** The most octets ever queued for the socket (ours + the socket's own buffer). */
  maxOutboundBytes: number;
  /** Times we stopped reading because the peer does not read. */
  readPauses: number;
  /** Octets read and dropped unparsed after the connection began to close (bounded, connection.ts). */
  lingerBytes: number;
}

export function newStats(): Http2ConnectionStats {
  return {
    streamsOpened: 0,
    streamsRefused: 0,
    resetsReceived: 0,
    resetsSent: 0,
    pingsReceived: 0,
    settingsReceived: 0,
    headersTooLarge: 0,
    goawayCode: null,
    goawayReason: null,
    goawayReceived: null,
    maxOutboundBytes: 0,
    readPauses: 0,
    lingerBytes: 0,
  };
}
