/**
 * What turning telemetry on costs a service's start (docs/decisions/0910): for each service, a
 * fresh process loads the service's modules as its entry point does, with telemetry off and on
 * (start-child.ts), alternating off/on so the machine's drift touches both; reported as medians of
 * the CPU time the process used until then (robust under load) and of the wall time since the
 * process started (only meaningful on a quiet machine). Also `npm start` itself with
 * `--platform`: seconds to ready of the whole platform through the launcher, off and on.
 *
 * npm run bench -- telemetry            (RUNS=7 by default; RUNS=3 SERVICES=gateway,quiz for a quick look)
 * npx tsx bench/telemetry/start-cost.bench.ts --platform
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { percentile } from '../stats';

const ALL_SERVICES = ['gateway', 'identity', 'quiz', 'evaluation', 'notification', 'operator'];
/** SERVICES=gateway,quiz measures only those (SERVICES=none: only --platform) */
const SERVICES = process.env.SERVICES ? process.env.SERVICES.split(',').filter((s) => s !== 'none') : ALL_SERVICES;
const RUNS = Number(process.env.RUNS ?? 7);
const root = join(__dirname, '../..');
const median = (values: number[]) =>
  Math.round(
    percentile(
      [...values].sort((a, b) => a - b),
      50,
    ),
  );

interface ChildResult {
  readyMs: number;
  cpuMs: number;
}

function child(service: string, mode: 'on' | 'off'): ChildResult {
  const out = execFileSync(
    process.execPath,
    ['--conditions=@quizmesh/source', '--import', 'tsx', join(__dirname, 'start-child.ts'), service, mode],
    { cwd: root, encoding: 'utf8' },
  );
  const parsed = JSON.parse(out.trim().split('\n').pop() ?? '{}') as ChildResult & { enabled: boolean };
  if (parsed.enabled !== (mode === 'on')) throw new Error(`${service} ${mode}: telemetry enabled = ${parsed.enabled}`);
  return parsed;
}

async function platformReadySeconds(telemetry: boolean): Promise<number> {
  const { startPlatform } = await import('@quizmesh/launcher');
  const started = performance.now();
  const platform = await startPlatform({
    services: ['identity', 'quiz', 'evaluation', 'notification', 'operator'],
    backends: 'embedded',
    readyTimeoutMs: 180_000,
    // Nothing listens on port 9: the exporters fail quietly, as with no collector running.
    ...(telemetry
      ? {
          serviceEnv: Object.fromEntries(
            ALL_SERVICES.map((s) => [s, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }]),
          ),
        }
      : {}),
  });
  const seconds = (performance.now() - started) / 1000;
  await platform.stop();
  return Math.round(seconds * 10) / 10;
}

async function main(): Promise<void> {
  const withPlatform = process.argv.includes('--platform');
  const loadBefore = loadavg()[0] ?? 0;
  const perService: Record<string, unknown> = {};
  console.log(`telemetry start cost: ${RUNS} runs per service and mode, load average ${loadBefore.toFixed(1)}`);
  for (const service of SERVICES) {
    const off: ChildResult[] = [];
    const on: ChildResult[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      off.push(child(service, 'off'));
      on.push(child(service, 'on'));
    }
    const figures = {
      cpuMsOff: median(off.map((r) => r.cpuMs)),
      cpuMsOn: median(on.map((r) => r.cpuMs)),
      // pair by pair, so a slow moment of the machine counts against neither mode
      cpuMsAddedMedian: median(on.map((r, i) => r.cpuMs - (off[i]?.cpuMs ?? 0))),
      readyMsOff: median(off.map((r) => r.readyMs)),
      readyMsOn: median(on.map((r) => r.readyMs)),
      readyMsAddedMedian: median(on.map((r, i) => r.readyMs - (off[i]?.readyMs ?? 0))),
    };
    perService[service] = figures;
    console.log(
      `  ${service.padEnd(13)} CPU to loaded: off ${figures.cpuMsOff} ms, on ${figures.cpuMsOn} ms (added ${figures.cpuMsAddedMedian} ms); wall: off ${figures.readyMsOff} ms, on ${figures.readyMsOn} ms (added ${figures.readyMsAddedMedian} ms)`,
    );
  }
  let platform: Record<string, number[]> | undefined;
  if (withPlatform) {
    platform = { offSeconds: [], onSeconds: [] };
    for (let i = 0; i < Math.min(RUNS, 3); i += 1) {
      platform.offSeconds?.push(await platformReadySeconds(false));
      platform.onSeconds?.push(await platformReadySeconds(true));
    }
    console.log(
      `  npm start (launcher) to ready: off ${platform.offSeconds?.join(', ')} s; on ${platform.onSeconds?.join(', ')} s`,
    );
  }
  const file = join(root, 'bench/results/telemetry-start-cost.json');
  // A run of some services (or only --platform) updates those figures and keeps the others.
  const previous = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { perService?: Record<string, unknown>; platform?: unknown })
    : {};
  const result = {
    measuredAt: new Date().toISOString(),
    machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    loadAverage1m: { before: loadBefore, after: loadavg()[0] },
    runsPerMode: RUNS,
    what: 'a fresh process per run: telemetry off or on, then every module the service loads before it listens, then instrument(); medians',
    perService: { ...previous.perService, ...perService },
    ...(platform ? { platform } : previous.platform ? { platform: previous.platform } : {}),
  };
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
