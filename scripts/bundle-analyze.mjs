// What a bundle's bytes are spent on: `npm run build -- --target pi-zero-2w --analyze [N]`.
//
// Two tables for one minified bundle:
//   - per input module: esbuild's metafile (bytesInOutput), node_modules packages summed too;
//   - per declaration: the N largest functions, methods, accessors, class fields and top-level
//     statements of every input, found by walking the bundle's source map (each output byte goes to
//     the source line it came from) and the inputs' syntax trees (TypeScript's parser, a dev
//     dependency: each line goes to the innermost declaration around it). Bytes esbuild adds itself
//     (module wrappers, helpers) map to no source and are shown as one line.
// Build-time only: nothing here is in any bundle.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The numbers of one source-map segment (base64 VLQ, source map v3). */
function vlq(seg) {
  const out = [];
  let v = 0;
  let shift = 0;
  for (const ch of seg) {
    const d = B64.indexOf(ch);
    v += (d & 31) << shift;
    if (d & 32) shift += 5;
    else {
      out.push(v & 1 ? -(v >>> 1) : v >>> 1);
      v = 0;
      shift = 0;
    }
  }
  return out;
}

/** Output bytes per [source index, original line], from the map's segments. */
function bytesPerSourceLine(code, map) {
  const lines = code.split('\n');
  const acc = new Map();
  let unmapped = 0;
  let src = 0;
  let line = 0;
  map.mappings.split(';').forEach((text, outLine) => {
    const segs = [];
    let col = 0;
    for (const s of text.split(',')) {
      if (s === '') continue;
      const f = vlq(s);
      col += f[0];
      if (f.length >= 4) {
        src += f[1];
        line += f[2];
        segs.push([col, src, line]);
      } else segs.push([col, -1, -1]);
    }
    const len = lines[outLine]?.length ?? 0;
    if (segs.length === 0) unmapped += len;
    else unmapped += segs[0][0];
    segs.forEach(([c, s, l], i) => {
      const n = (i + 1 < segs.length ? segs[i + 1][0] : len) - c;
      if (s < 0) unmapped += n;
      else acc.set(`${s}:${l}`, (acc.get(`${s}:${l}`) ?? 0) + n);
    });
  });
  return { acc, unmapped };
}

/** [firstLine, lastLine, dotted name] of every declaration in one source file. */
function declarations(ts, name, text) {
  const out = [];
  const sf = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true, name.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const lineOf = (pos) => sf.getLineAndCharacterOfPosition(pos).line;
  const visit = (node, prefix) => {
    let own = null;
    if (ts.isConstructorDeclaration(node)) own = 'constructor';
    else if (
      ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node) ||
      ts.isClassDeclaration(node) || ts.isPropertyDeclaration(node) || ts.isEnumDeclaration(node)
    ) own = node.name ? node.name.getText(sf) : '(anonymous)';
    else if (ts.isVariableStatement(node) && node.parent === sf) own = node.declarationList.declarations.map((d) => d.name.getText(sf)).join(', ');
    else if (ts.isExpressionStatement(node) && node.parent === sf) {
      // protobufjs style: Type.prototype.x = function ...
      const e = node.expression;
      if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.EqualsToken) own = e.left.getText(sf).slice(0, 60);
    }
    const here = own === null ? prefix : prefix === '' ? own : `${prefix}.${own}`;
    if (own !== null) out.push([lineOf(node.getStart(sf)), lineOf(node.end), here]);
    ts.forEachChild(node, (c) => visit(c, here));
  };
  visit(sf, '');
  return out;
}

/**
 * Analyse a bundle written with an external source map (`file` + '.map'). `inputs` is what
 * build.mjs's bundle() returns ([path, bytes] from the metafile). Returns { bytes, modules,
 * packages, decls, unmapped } with byte counts, largest first.
 */
export function analyzeBundle({ file, inputs, root }) {
  const ts = createRequire(`${root}/package.json`)('typescript');
  const code = readFileSync(file, 'utf8');
  const map = JSON.parse(readFileSync(`${file}.map`, 'utf8'));
  const { acc, unmapped } = bytesPerSourceLine(code, map);
  // a map's sources are relative to the map's own folder: resolved from there, then named from the root
  const rel = (s) => relative(root, resolve(dirname(file), map.sourceRoot ?? '', s)).split(sep).join('/');
  const perDecl = new Map();
  const declCache = new Map();
  for (const [key, n] of acc) {
    const [s, l] = key.split(':').map(Number);
    if (!declCache.has(s)) {
      const text = map.sourcesContent?.[s];
      declCache.set(s, text && /\.(ts|mts|js|cjs|mjs)$/.test(map.sources[s]) ? declarations(ts, map.sources[s], text) : []);
    }
    let best = null;
    for (const d of declCache.get(s)) if (d[0] <= l && l <= d[1] && (best === null || d[1] - d[0] < best[1] - best[0])) best = d;
    const k = `${rel(map.sources[s])}\0${best === null ? '(top level)' : best[2]}`;
    perDecl.set(k, (perDecl.get(k) ?? 0) + n);
  }
  const decls = [...perDecl].map(([k, n]) => [...k.split('\0'), n]).sort((a, b) => b[2] - a[2]);
  const modules = inputs.filter(([, n]) => n > 0);
  const packages = new Map();
  for (const [p, n] of modules) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p);
    const k = m ? m[1] : p.split('/').slice(0, 2).join('/');
    packages.set(k, (packages.get(k) ?? 0) + n);
  }
  return { bytes: code.length, modules, packages: [...packages].sort((a, b) => b[1] - a[1]), decls, unmapped };
}

/** Print analyzeBundle()'s tables: every package/folder, every module, the `top` largest declarations. */
export function printAnalysis(a, top = 40) {
  const pct = (n) => `${((100 * n) / a.bytes).toFixed(1).padStart(5)}%`;
  const row = (n, what) => console.log(`  ${String(n).padStart(7)} ${pct(n)}  ${what}`);
  console.log(`\n${a.bytes} bytes. By package or folder:`);
  for (const [k, n] of a.packages) row(n, k);
  console.log('By module:');
  for (const [p, n] of a.modules) row(n, p);
  console.log(`The ${top} largest declarations (innermost function, method, field or statement of each source line):`);
  for (const [p, d, n] of a.decls.slice(0, top)) row(n, `${p}  ${d}`);
  row(a.unmapped, '(esbuild: module wrappers, helpers, no source)');
}
