// RFC 7541 Appendix A: the static table. Index 0 is unused ("The index value of 0 is not used").

// One string per entry, "name value" (split at the first space; names have none): the same table in
// fewer bundled bytes than [name, value] pairs.
const ENTRIES: readonly string[] = [
  ':authority',
  ':method GET',
  ':method POST',
  ':path /',
  ':path /index.html',
  ':scheme http',
  ':scheme https',
  ':status 200',
  ':status 204',
  ':status 206',
  ':status 304',
  ':status 400',
  ':status 404',
  ':status 500',
  'accept-charset',
  'accept-encoding gzip, deflate',
  'accept-language',
  'accept-ranges',
  'accept',
  'access-control-allow-origin',
  'age',
  'allow',
  'authorization',
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-length',
  'content-location',
  'content-range',
  'content-type',
  'cookie',
  'date',
  'etag',
  'expect',
  'expires',
  'from',
  'host',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'last-modified',
  'link',
  'location',
  'max-forwards',
  'proxy-authenticate',
  'proxy-authorization',
  'range',
  'referer',
  'refresh',
  'retry-after',
  'server',
  'set-cookie',
  'strict-transport-security',
  'transfer-encoding',
  'user-agent',
  'vary',
  'via',
  'www-authenticate',
];

/** Number of static entries (61); dynamic indexes start after it. */
export const STATIC_COUNT = ENTRIES.length;

/** Names and values by index (1..61); slot 0 is an empty placeholder. */
const space = (e: string): number => (e.includes(' ') ? e.indexOf(' ') : e.length);
export const STATIC_NAMES: readonly string[] = ['', ...ENTRIES.map((e) => e.slice(0, space(e)))];
export const STATIC_VALUES: readonly string[] = ['', ...ENTRIES.map((e) => e.slice(space(e) + 1))];

/** For the encoder: a name's first static index, and the indexes of its (name, value) pairs. */
export interface StaticName {
  readonly index: number;
  readonly values: ReadonlyMap<string, number>;
}

function buildLookup(): ReadonlyMap<string, StaticName> {
  const m = new Map<string, { index: number; values: Map<string, number> }>();
  for (let i = 1; i <= STATIC_COUNT; i++) {
    const name = STATIC_NAMES[i]!;
    let e = m.get(name);
    if (e === undefined) {
      e = { index: i, values: new Map() };
      m.set(name, e);
    }
    // An empty static value is a name-only slot in practice, but an empty value still matches it.
    if (!e.values.has(STATIC_VALUES[i]!)) e.values.set(STATIC_VALUES[i]!, i);
  }
  return m;
}

export const STATIC_LOOKUP = buildLookup();
