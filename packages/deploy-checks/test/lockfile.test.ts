import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/helm';
import { checkLockfileInSync, missingNativePackages, REQUIRED_NATIVE_PACKAGES } from '../src/lockfile';

const lockText = readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8');

describe('package-lock.json', () => {
  it('is accepted by `npm ci` on a fresh copy of the manifests', async () => {
    const result = await checkLockfileInSync(REPO_ROOT);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  it('carries the native packages of linux and macOS on x64 and arm64', () => {
    expect(missingNativePackages(lockText)).toEqual([]);
  });

  it('is refused by the same check when a native package is missing (as in a lock written on one platform)', async () => {
    const lock = JSON.parse(lockText) as { packages: Record<string, unknown> };
    delete lock.packages['node_modules/@swc/core-darwin-arm64'];
    const mutated = JSON.stringify(lock, null, 2);
    expect(missingNativePackages(mutated)).toEqual(['@swc/core-darwin-arm64']);
    const result = await checkLockfileInSync(REPO_ROOT, { 'package-lock.json': mutated });
    expect(result.ok).toBe(false);
    expect(result.output).toContain('@swc/core-darwin-arm64');
  });

  it('is refused when a workspace package.json asks for a version the lock does not hold', async () => {
    const path = 'packages/platform/package.json';
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, path), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(manifest.dependencies.zod).toBeDefined();
    manifest.dependencies.zod = '3.0.0';
    const result = await checkLockfileInSync(REPO_ROOT, { [path]: JSON.stringify(manifest, null, 2) });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/zod/);
  });

  it('lists each required package once', () => {
    expect(new Set(REQUIRED_NATIVE_PACKAGES).size).toBe(REQUIRED_NATIVE_PACKAGES.length);
  });
});
