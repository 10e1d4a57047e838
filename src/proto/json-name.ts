// protoc's ToJsonName, in one place for run time and build time: src/web (ProtoJSON field names and
// FieldMask paths) imports it, and so only bundles with the web protocols carry it;
// scripts/proto-descriptors.mjs transpiles this file when it runs (map entry names, descriptor.proto
// option fields). So that the script can load it alone, it imports nothing.

/** protoc's ToJsonName: underscores dropped, the letter after each one upper-cased ("foo_bar_baz" -> "fooBarBaz"). */
export function jsonName(name: string): string {
  let out = '';
  let upper = false;
  for (const c of name) {
    if (c === '_') upper = true;
    else {
      out += upper ? c.toUpperCase() : c;
      upper = false;
    }
  }
  return out;
}
