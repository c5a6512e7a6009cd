/**
 * One Dapr version: the chart's `quizmesh.io/dapr-version` annotation is the source; skaffold,
 * Tilt, the local sidecar's emulation claim (`runtimeVersion` in its metadata) and every Dapr
 * version named in the docs must agree with it.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DAPR_API_VERSION } from '@quizmesh/sidecar';
import { CHART_DIR, REPO_ROOT } from '../src/helm';

const chartYaml = readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8');
const pinned = /quizmesh\.io\/dapr-version: '?"?(\d+\.\d+\.\d+)/.exec(chartYaml)?.[1];

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

describe('the Dapr version, pinned once', () => {
  it('is pinned exactly in the chart annotation', () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('is the version skaffold and Tilt install', () => {
    const skaffold = readFileSync(join(REPO_ROOT, 'skaffold.yaml'), 'utf8');
    const tiltfile = readFileSync(join(REPO_ROOT, 'tilt', 'Tiltfile'), 'utf8');
    expect(/remoteChart: dapr\n\s+version: (\S+)/.exec(skaffold)?.[1]).toBe(pinned);
    expect(/^DAPR_VERSION = '([^']+)'$/m.exec(tiltfile)?.[1]).toBe(pinned);
  });

  it('is the version the local sidecar claims to emulate', () => {
    expect(DAPR_API_VERSION).toBe(pinned);
  });

  it('is the only Dapr version the docs name (full, or its minor line)', () => {
    const minor = pinned?.split('.').slice(0, 2).join('.');
    const mentions = [REPO_ROOT, ...['docs', 'charts', 'packages', 'services'].map((d) => join(REPO_ROOT, d))]
      .flatMap((dir) => (dir === REPO_ROOT ? [join(REPO_ROOT, 'README.md')] : markdownFiles(dir)))
      .flatMap((file) => {
        const text = readFileSync(file, 'utf8');
        // "Dapr 1.16", "dapr chart 1.16.2", "daprd 1.16.x", "Dapr HTTP API 1.18", "dapr v1.16.2"
        const pattern = /\b(?:dapr|daprd)(?: (?:chart|runtime|HTTP API|control plane))? v?(1\.\d+(?:\.(?:\d+|x))?)\b/gi;
        return [...text.matchAll(pattern)].map((m) => ({ file: relative(REPO_ROOT, file), version: m[1] ?? '' }));
      });
    expect(mentions.length).toBeGreaterThan(0);
    expect(mentions.filter((m) => m.version !== pinned && m.version !== minor && m.version !== `${minor}.x`)).toEqual(
      [],
    );
  });
});
