// `npm run build`: compiles src/ into a clean dist/. With --if-stale (before `npm start` and
// `npm run migrate`) only when dist/ is missing or older than a source, so a fresh clone needs no
// separate build step; in an image that ships only dist/ (no src/, no TypeScript) it does nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist', '.built');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(file) : statSync(file).mtimeMs);
  }
  return newest;
}

const ifStale = process.argv.includes('--if-stale');
if (ifStale && !existsSync(path.join(root, 'src'))) process.exit(0);
const sources = Math.max(newestSource(path.join(root, 'src')), ...['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((file) => statSync(path.join(root, file)).mtimeMs));
if (ifStale && existsSync(stamp) && statSync(stamp).mtimeMs >= sources) process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.error('dist/ is out of date and TypeScript is not installed: run `npm ci`, then `npm run build`.');
  process.exit(1);
}
if (ifStale) console.error('Compiling src/ into dist/ …');
// A clean build: a source that was deleted leaves no stale module behind.
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
const build = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
writeFileSync(stamp, `${new Date().toISOString()}\n`);
