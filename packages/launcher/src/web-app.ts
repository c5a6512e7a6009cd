/**
 * `npm start` serves the web app from the gateway, so it builds it first when the build is
 * missing or older than its sources (services/web). A build takes a few seconds; an unchanged
 * app costs one directory walk.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestMtimeMs(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtimeMs(join(path, name))), stat.mtimeMs);
}

export function webAppIsStale(repoRoot: string): boolean {
  const webDir = join(repoRoot, 'services', 'web');
  const built = join(webDir, 'dist', 'index.html');
  if (!existsSync(built)) return true;
  const sources = ['src', 'index.html', 'vite.config.mts', 'package.json'].map((p) => join(webDir, p));
  return Math.max(...sources.filter(existsSync).map(newestMtimeMs)) > statSync(built).mtimeMs;
}

/** Builds services/web when stale; throws with Vite's output when the build fails. */
export function ensureWebAppBuilt(repoRoot: string, out: (line: string) => void): void {
  if (!webAppIsStale(repoRoot)) return;
  out('Building the web app (services/web)…');
  const result = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], {
    cwd: join(repoRoot, 'services', 'web'),
    encoding: 'utf8',
    // Always the production build: under jest NODE_ENV is "test", which would give React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (result.status !== 0) {
    throw new Error(`the web app did not build:\n${result.stdout}${result.stderr}`);
  }
}
