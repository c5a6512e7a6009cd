/**
 * Top self-time frames per process from the `.cpuprofile` files that `lag.bench.ts
 * --cpu-prof=DIR` wrote: `node --import tsx bench/e2e/profile-summary.ts DIR [top]`.
 * Frames are grouped by function and file (line numbers dropped, so one function is one row);
 * `(garbage collector)`, `(program)` and `(idle)` are V8's own buckets.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const root = join(__dirname, '..', '..');

function frameName(frame: ProfileNode['callFrame']): string {
  const url = frame.url.replace(/^file:\/\//, '');
  const where = url ? relative(root, url).replace(/^node_modules\//, '~/') : '';
  return `${frame.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
}

/** Where a frame's code lives: an npm package, a workspace folder, Node's internals, or V8's own buckets. */
function packageOf(frame: ProfileNode['callFrame']): string {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return 'node';
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1] ?? url;
  const workspace = /\/((?:packages|services)\/[^/]+)\//.exec(url);
  return workspace?.[1] ?? relative(root, url);
}

/** Self time (ms) by frame and by package, and the profile's busy time (all but idle). */
export function selfTimes(profile: Profile): {
  busyMs: number;
  byFrame: Map<string, number>;
  byPackage: Map<string, number>;
} {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFrame = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let busyMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const node = nodes.get(id);
    if (!node) return;
    const name = frameName(node.callFrame);
    if (name !== '(idle)') busyMs += ms;
    byFrame.set(name, (byFrame.get(name) ?? 0) + ms);
    const pkg = packageOf(node.callFrame);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
  });
  byFrame.delete('(idle)');
  byPackage.delete('(idle)');
  return { busyMs, byFrame, byPackage };
}

function main() {
  const dir = process.argv[2];
  const top = Number(process.argv[3] ?? 15);
  if (!dir) {
    console.error('usage: profile-summary.ts <dir of .cpuprofile files> [top]');
    process.exit(2);
  }
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()) {
    const { busyMs, byFrame, byPackage } = selfTimes(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile);
    console.log(`\n${file}: ${Math.round(busyMs)} ms busy`);
    const share = (ms: number) => `${((ms / busyMs) * 100).toFixed(0)}%`;
    console.log(
      `  by package: ${[...byPackage]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10)
        .map(([name, ms]) => `${name} ${share(ms)}`)
        .join(', ')}`,
    );
    for (const [name, ms] of [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`  ${((ms / busyMs) * 100).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(6)} ms  ${name}`);
    }
  }
}

if (require.main === module) main();
