'use strict';
// Which property names esbuild may shorten in grpc-edge bundles (scripts/build.mjs passes them as
// `mangleProps`). esbuild renames private class members (#x) when minifying but never plain property
// names, and most of our internal state is plain properties shared between the files of one layer
// (the connection's windows and timers, read by settings.ts, dispatch.ts, flow.ts...). Mangling is
// global to the bundle, so a name qualifies only when shortening it cannot change behaviour:
//   - it is declared as a member of a class in src/ (not src/services/),
//   - every `x.name` in src/ resolves, by the TypeScript checker, to such a class member (not to a
//     Node, JS or interface member, not to an unresolved/any access),
//   - it is never an object-literal or destructuring key, nor an interface/type member, in src/,
//   - it is not a word anywhere in the bundled third-party code (protobufjs, which builds code from
//     strings, and scripts/build/*.cjs), nor in the public API files (src/index.ts, http2/api.ts,
//     http2/errors.ts, grpc/method.ts, grpc/metadata.ts, server/profile.ts, targets/*.json),
//   - it is not read as `.name` or written as `name:` by code using the public API (examples/,
//     src/services/, test/grpc, test/services, test/interop, test/build, test/python),
//   - it is not a quoted string in src/ (so no `'name' in x` or x['name']), and is 3+ characters.
// Comments do not count (nor, in TypeScript files, types): only code that runs.
// scripts/build/internal-props.json is the committed list (reviewable, stable bundles);
// test/build/internal-props.test.ts recomputes this and fails when a listed name stops qualifying.
const ts = require('typescript');
const esbuild = require('esbuild');
const { readFileSync, readdirSync } = require('node:fs');
const { join, relative, dirname } = require('node:path');

const ROOT = join(__dirname, '..', '..');

function walk(dir, keep, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') walk(p, keep, out);
    } else if (keep(p)) out.push(p);
  }
  return out;
}

// A file's code without comments (and, for TypeScript, without types): what can run.
const code = (f) => {
  const text = readFileSync(f, 'utf8');
  if (!/\.(ts|mjs|cjs|js)$/.test(f)) return text;
  return esbuild.transformSync(text, { loader: f.endsWith('.ts') ? 'ts' : 'js', minifyWhitespace: true, legalComments: 'none' }).code;
};
const words = (text) => text.match(/[A-Za-z_$][\w$]*/g) ?? [];

/** { names: string[] sorted, why: Map<name, reason> } for every candidate that does not qualify. */
function allowedInternalProps() {
  const rel = (f) => relative(ROOT, f).split('\\').join('/');
  const ours = (f) => rel(f).startsWith('src/') && !rel(f).startsWith('src/services/');
  const srcFiles = walk(join(ROOT, 'src'), (p) => p.endsWith('.ts') && ours(p));
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic() {} });
  const program = ts.createProgram(srcFiles, parsed.options);
  const checker = program.getTypeChecker();
  const isOurClassMember = (d) =>
    ours(d.getSourceFile().fileName) &&
    (ts.isPropertyDeclaration(d) || ts.isMethodDeclaration(d) || ts.isGetAccessorDeclaration(d) || ts.isSetAccessorDeclaration(d) ||
      (ts.isParameter(d) && (ts.getModifiers(d)?.length ?? 0) > 0)) &&
    ts.isClassLike(ts.isParameter(d) ? d.parent.parent : d.parent);
  const candidates = new Set();
  const why = new Map();
  const reject = (name, reason) => {
    if (!why.has(name)) why.set(name, reason);
  };
  for (const sf of program.getSourceFiles()) {
    if (!ours(sf.fileName)) continue;
    const file = rel(sf.fileName);
    const visit = (n) => {
      if (ts.isClassLike(n)) for (const m of n.members) if (m.name && ts.isIdentifier(m.name)) candidates.add(m.name.text);
      if (ts.isConstructorDeclaration(n)) {
        for (const p of n.parameters) if ((ts.getModifiers(p)?.length ?? 0) > 0 && ts.isIdentifier(p.name)) candidates.add(p.name.text);
      }
      if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.name)) {
        const decls = checker.getSymbolAtLocation(n.name)?.declarations ?? [];
        if (decls.length === 0) reject(n.name.text, `unresolved access in ${file}`);
        else if (!decls.every(isOurClassMember)) reject(n.name.text, `access to a non-class member in ${file}`);
      } else if (
        (ts.isPropertyAssignment(n) || ts.isShorthandPropertyAssignment(n) || (ts.isMethodDeclaration(n) && ts.isObjectLiteralExpression(n.parent))) &&
        ts.isIdentifier(n.name)
      ) {
        reject(n.name.text, `object literal key in ${file}`);
      } else if (ts.isBindingElement(n) && ts.isObjectBindingPattern(n.parent)) {
        const k = n.propertyName ?? n.name;
        if (ts.isIdentifier(k)) reject(k.text, `destructuring key in ${file}`);
      } else if ((ts.isPropertySignature(n) || ts.isMethodSignature(n)) && n.name && ts.isIdentifier(n.name)) {
        reject(n.name.text, `interface member in ${file}`);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  // The third-party code a bundle can hold: protobufjs/light and every module it requires, minus what
  // scripts/build.mjs replaces by stubs or shims (which are read instead).
  const STUBBED = /^(@protobufjs\/(fetch|path|aspromise|eventemitter|float)|long|\.\/util\/fs|\.\/rpc\/service|\.\/verifier)$/;
  const thirdParty = walk(join(ROOT, 'scripts/build'), (p) => p.endsWith('.cjs') && !p.endsWith('internal-props.cjs'));
  const seen = new Set();
  const follow = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    thirdParty.push(file);
    for (const m of code(file).matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)) {
      if (STUBBED.test(m[1])) continue;
      let dep;
      try {
        dep = require.resolve(m[1], { paths: [dirname(file)] });
      } catch {
        continue; // text inside a string, not a module esbuild could bundle
      }
      if (dep.startsWith(ROOT)) follow(dep); // not node: built-ins
    }
  };
  follow(require.resolve('protobufjs/light', { paths: [ROOT] }));
  // Comments left out (esbuild strips them), strings kept: protobufjs generates code from strings.
  for (const f of thirdParty) {
    for (const w of words(code(f))) reject(w, `word in ${rel(f)}`);
  }
  const publicFiles = [
    'src/index.ts', 'src/http2/api.ts', 'src/http2/errors.ts', 'src/grpc/method.ts', 'src/grpc/metadata.ts', 'src/server/profile.ts',
  ].map((f) => join(ROOT, f)).concat(walk(join(ROOT, 'targets'), (p) => p.endsWith('.json')));
  // Every identifier and string of these files, types included (interfaces are the API), comments not.
  for (const f of publicFiles) {
    const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, readFileSync(f, 'utf8'));
    for (let t = scanner.scan(); t !== ts.SyntaxKind.EndOfFileToken; t = scanner.scan()) {
      for (const w of words(scanner.getTokenText())) reject(w, `word in ${rel(f)}`);
    }
  }
  const users = [
    ...walk(join(ROOT, 'examples'), (p) => /\.(ts|mjs|js)$/.test(p)),
    ...walk(join(ROOT, 'src/services'), (p) => p.endsWith('.ts')),
    ...['grpc', 'services', 'interop', 'build', 'python'].flatMap((d) => walk(join(ROOT, 'test', d), (p) => /\.(ts|mjs|js|py)$/.test(p))),
  ];
  for (const f of users) {
    for (const m of code(f).matchAll(/\.\s*([A-Za-z_$][\w$]*)|([A-Za-z_$][\w$]*)\??\s*:/g)) reject(m[1] ?? m[2], `used by ${rel(f)}`);
  }
  for (const f of srcFiles) {
    for (const m of code(f).matchAll(/'([A-Za-z_$][\w$]*)'|"([A-Za-z_$][\w$]*)"|`([A-Za-z_$][\w$]*)`/g)) {
      reject(m[1] ?? m[2] ?? m[3], `quoted in ${rel(f)}`);
    }
  }
  const names = [...candidates].filter((n) => n.length > 2 && !why.has(n)).sort();
  return { names, why };
}

module.exports = { allowedInternalProps };

if (require.main === module) {
  // node scripts/build/internal-props.cjs            print the names that qualify now
  // node scripts/build/internal-props.cjs --write    rewrite scripts/build/internal-props.json with them
  const { names } = allowedInternalProps();
  const json = JSON.stringify(names, null, 0).replace(/","/g, '",\n  "').replace(/^\["/, '[\n  "').replace(/"\]$/, '"\n]') + '\n';
  if (process.argv.includes('--write')) require('node:fs').writeFileSync(join(__dirname, 'internal-props.json'), json);
  else process.stdout.write(json);
}
