// Board profiles: how big the server may get on each target (queue slots, HTTP/2 windows, message
// sizes, V8 heap flags). The source of truth is targets/<name>.json; the block between the
// GENERATED markers below is a copy of those files (one row each, see profileTable), rewritten by
// `node scripts/build.mjs --sync-profiles` and checked by test/build/profiles.test.ts and by every
// `npm run build`. The profiles live in this module (not a JSON import) so the same code runs
// unbundled under Node 18 (JSON modules need import attributes there, and build/ has no targets/)
// and bundled by esbuild.

export type TargetArch = 'arm' | 'arm64' | 'x64';

export interface TargetServerLimits {
  /** Job-queue slots that run handlers at once. */
  maxRunning: number;
  /** Calls that may wait for a running slot before new ones are refused (RESOURCE_EXHAUSTED). */
  maxWaiting: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS we advertise. */
  maxConcurrentStreams: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE we advertise (per-stream receive window, bytes). */
  initialWindowSize: number;
  /** Connection-level receive window we grow to with WINDOW_UPDATE on stream 0 (bytes, >= 65535). */
  connectionWindowSize: number;
  /** SETTINGS_MAX_FRAME_SIZE we advertise (16384..16777215). */
  maxFrameSize: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE we advertise and enforce (RFC 7541 4.1 sizing). */
  maxHeaderListSize: number;
  /** Largest request message accepted (bytes); larger ones end the call with RESOURCE_EXHAUSTED. */
  maxReceiveMessageLength: number;
  /** Largest response message sent (bytes). */
  maxSendMessageLength: number;
  /** A connection with no open stream for this long is sent GOAWAY and closed. */
  maxConnectionIdleMs: number;
  /** Time allowed from accept to the client's preface and SETTINGS (and the TLS handshake). */
  handshakeTimeoutMs: number;
  /** Connections open at once, handshakes included (src/server/connections.ts). */
  maxConnections: number;
  /** PING a connection silent this long; no answer within keepaliveTimeoutMs closes it (0: off). */
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
  /** Client PINGs closer than this are strikes (too_many_pings after 2). */
  minPingIntervalMs: number;
  /** Graceful GOAWAY after this long (+-10%), calls cancelled after the grace (0: off / no limit). */
  maxConnectionAgeMs: number;
  maxConnectionAgeGraceMs: number;
  /** Response DATA waiting this long for flow-control window: stream reset / connection closed (0: off). */
  sendStallTimeoutMs: number;
}

export interface TargetProfile {
  name: string;
  description: string;
  arch: TargetArch;
  node: {
    /** Node major versions supported on this board, oldest first ("18", "20", ...). */
    versions: string[];
    /** esbuild `target` for the bundle: the oldest supported Node ("node18"). */
    esbuildTarget: string;
    /** Node/V8 command-line flags that hold the process to the memory budget. */
    flags: string[];
  };
  /** Resident memory the server process should stay under on this board (MB). */
  memoryBudgetMB: number;
  /** `npm run build` fails when the minified bundle is larger than this (KB, 1024 bytes). */
  bundleBudgetKB: number;
  server: TargetServerLimits;
}

/** The profile used when neither the caller, GRPC_EDGE_TARGET nor a bundle names one. */
export const DEFAULT_PROFILE_NAME = 'host-x64';

const SERVER_KEYS: readonly (keyof TargetServerLimits)[] = [
  'maxRunning', 'maxWaiting', 'maxConcurrentStreams', 'initialWindowSize', 'connectionWindowSize', 'maxFrameSize',
  'maxHeaderListSize', 'maxReceiveMessageLength', 'maxSendMessageLength', 'maxConnectionIdleMs', 'handshakeTimeoutMs',
  'maxConnections', 'keepaliveTimeMs', 'keepaliveTimeoutMs', 'minPingIntervalMs', 'maxConnectionAgeMs', 'maxConnectionAgeGraceMs',
  'sendStallTimeoutMs',
];
/** One generated row: a profile's values in TargetProfile order, its server limits in SERVER_KEYS order. */
type ProfileRow = [
  name: string, description: string, arch: TargetArch, versions: string[], esbuildTarget: string, flags: string[],
  memoryBudgetMB: number, bundleBudgetKB: number, server: number[],
];

/** The generated rows as profiles keyed by name, each with the fields in targets/*.json order. */
function profileTable(rows: ProfileRow[]): Record<string, TargetProfile> {
  const out: Record<string, TargetProfile> = {};
  for (const [name, description, arch, versions, esbuildTarget, flags, memoryBudgetMB, bundleBudgetKB, limits] of rows) {
    const server = {} as TargetServerLimits;
    SERVER_KEYS.forEach((k, i) => (server[k] = limits[i]!));
    out[name] = { name, description, arch, node: { versions, esbuildTarget, flags }, memoryBudgetMB, bundleBudgetKB, server };
  }
  return out;
}

// BEGIN GENERATED PROFILES (from targets/*.json by `node scripts/build.mjs --sync-profiles`; do not edit)
const PROFILES: Record<string, TargetProfile> = profileTable([
  ["host-x64","A development or CI machine (x86-64 Linux), the default when no target is named.","x64",["18","20","22","24"],"node18",["--max-old-space-size=1536","--max-semi-space-size=2"],2048,176,[32,256,256,1048576,4194304,16384,16384,4194304,4194304,300000,10000,1024,120000,20000,5000,0,0,60000]],
  ["pi-zero-2w","Raspberry Pi Zero 2 W: 512 MB RAM shared with the GPU, 32-bit Raspberry Pi OS (armv7l). Small windows, few queue slots.","arm",["18","20"],"node18",["--max-old-space-size=64","--max-semi-space-size=1","--optimize-for-size"],128,150,[2,16,16,32768,131072,16384,8192,1048576,1048576,60000,10000,64,30000,10000,5000,0,0,30000]],
  ["pi3b","Raspberry Pi 3 B/B+: 1 GB RAM, 32-bit Raspberry Pi OS (armv7l).","arm",["18","20"],"node18",["--max-old-space-size=128","--max-semi-space-size=2"],256,150,[4,32,32,65535,262144,16384,8192,2097152,2097152,120000,10000,128,30000,10000,5000,0,0,30000]],
  ["pi4b","Raspberry Pi 4 B (2 GB or more; use pi3b on a 1 GB board): 64-bit Raspberry Pi OS (arm64).","arm64",["18","20","22"],"node18",["--max-old-space-size=384","--max-semi-space-size=8"],512,160,[8,64,100,262144,1048576,16384,16384,4194304,4194304,300000,10000,256,60000,20000,5000,0,0,60000]],
  ["pi5","Raspberry Pi 5 (4 or 8 GB): 64-bit Raspberry Pi OS (arm64).","arm64",["18","20","22"],"node18",["--max-old-space-size=768","--max-semi-space-size=16"],1024,160,[16,128,128,524288,2097152,16384,16384,4194304,4194304,300000,10000,512,60000,20000,5000,0,0,60000]],
]);
// END GENERATED PROFILES

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
deepFreeze(PROFILES);

/** Every profile name, sorted. */
export function profileNames(): string[] {
  return Object.keys(PROFILES).sort();
}

/** The named profile (frozen); throws an Error listing the known names when there is none. */
export function getProfile(name: string): TargetProfile {
  const profile = Object.hasOwn(PROFILES, name) ? PROFILES[name] : undefined;
  if (profile === undefined) {
    throw new Error(`unknown target profile "${name}"; known profiles: ${profileNames().join(', ')}`);
  }
  return profile;
}

/**
 * The profile a server uses when its options name none: the GRPC_EDGE_TARGET environment variable
 * when set, else the board a bundle was built for (scripts/build.mjs replaces
 * `process.env.GRPC_EDGE_BUNDLE_TARGET` with the board's name at build time), else
 * DEFAULT_PROFILE_NAME. An unknown name throws, as getProfile does.
 */
export function defaultProfileName(): string {
  const fromEnv = process.env.GRPC_EDGE_TARGET;
  if (fromEnv !== undefined && fromEnv !== '') return getProfile(fromEnv).name;
  const baked = process.env.GRPC_EDGE_BUNDLE_TARGET;
  if (baked !== undefined && baked !== '') return getProfile(baked).name;
  return DEFAULT_PROFILE_NAME;
}

/** The profile named, or the default one (see defaultProfileName). */
export function resolveProfile(name?: string): TargetProfile {
  return getProfile(name === undefined || name === '' ? defaultProfileName() : name);
}
