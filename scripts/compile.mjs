// Transpile every TypeScript file under src/, test/ and examples/ into build/ (same tree),
// one file per file, no bundling. Type checking is `npm run typecheck` (tsc); this step is
// esbuild's transpile only, so it takes well under a second.
//
// build/src, build/test and build/examples belong to this script alone: after writing, it deletes
// every file there that no longer has a source (a deleted or renamed .ts would otherwise leave its
// old .js behind, and `node --test` would go on running an old test) and the directories left
// empty. Only stale files are removed, never the whole tree, so a test run reading build/ while
// someone compiles never finds a current file missing.
import { build } from 'esbuild';
import { readdirSync, realpathSync, rmSync, rmdirSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SOURCE_DIRS = ['src', 'test', 'examples'];

function sources(root) {
  const entries = [];
  const walk = (dir) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.name.endsWith('.ts') && !d.name.endsWith('.d.ts')) entries.push(p);
    }
  };
  for (const d of SOURCE_DIRS) if (existsSync(join(root, d))) walk(join(root, d));
  return entries;
}

/**
 * Delete every file under `dir` that is not in `keep` (absolute paths), then `dir` itself if that
 * left it empty, adding what it deleted to `removed`; returns whether `dir` is gone.
 */
function prune(dir, keep, removed) {
  let left = 0;
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) {
      if (!prune(p, keep, removed)) left++;
    } else if (keep.has(p)) left++;
    else {
      rmSync(p, { force: true });
      removed.push(p);
    }
  }
  if (left > 0) return false;
  try {
    rmdirSync(dir);
  } catch {
    return false; // something appeared meanwhile (another compile): leave it
  }
  removed.push(dir + '/');
  return true;
}

/** Transpile `root`'s sources into `root`/build and remove stale outputs. */
export async function compile(root = fileURLToPath(new URL('..', import.meta.url))) {
  const entries = sources(root);
  const outdir = join(root, 'build');
  if (entries.length > 0) {
    await build({
      entryPoints: entries,
      outdir,
      outbase: root,
      format: 'esm',
      platform: 'node',
      target: 'node18',
      sourcemap: 'inline',
      logLevel: 'warning',
    });
  }
  const keep = new Set(entries.map((p) => join(outdir, relative(root, p)).slice(0, -'.ts'.length) + '.js'));
  const removed = [];
  for (const d of SOURCE_DIRS) {
    const dir = join(outdir, d);
    if (existsSync(dir)) prune(dir, keep, removed);
  }
  return { compiled: entries.length, removed: removed.map((p) => relative(root, p) + (p.endsWith('/') ? '/' : '')) };
}

const isMain = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();
if (isMain) {
  const r = await compile();
  if (r.removed.length > 0) {
    const shown = r.removed.slice(0, 10).join(', ') + (r.removed.length > 10 ? `, ... (${r.removed.length - 10} more)` : '');
    console.log(`compile: removed ${r.removed.length} stale output(s) without a source: ${shown}`);
  }
}
