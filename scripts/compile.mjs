// Transpile every TypeScript file under src/, test/ and examples/ into build/ (same tree),
// one file per file, no bundling. Type checking is `npm run typecheck` (tsc); this step is
// esbuild's transpile only, so it takes well under a second.
import { build } from 'esbuild';
import { readdirSync, statSync, cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entries = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) entries.push(p);
  }
}
for (const d of ['src', 'test', 'examples']) if (existsSync(join(root, d))) walk(join(root, d));

await build({
  entryPoints: entries,
  outdir: join(root, 'build'),
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node18',
  sourcemap: 'inline',
  logLevel: 'warning',
});
