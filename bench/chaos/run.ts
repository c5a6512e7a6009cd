/**
 * `npm run chaos [-- --short] [--only=R1,R5]`: runs every bench/chaos/scenarios/*.ts (or the
 * ones named), one after another on real backends, writes bench/results/chaos-<id>.json
 * (`chaos-<id>-short.json` for --short, not committed) and prints a summary. Exit code 1 if
 * any scenario failed, 2 for bad arguments.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ChaosScenario, ScenarioResult } from './scenario';

export const RESULTS_DIR = join(__dirname, '..', 'results');

/** Every scenario module in scenarios/, ordered by file name. */
export async function loadScenarios(): Promise<ChaosScenario[]> {
  const dir = join(__dirname, 'scenarios');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort();
  const scenarios: ChaosScenario[] = [];
  for (const file of files) {
    const mod = (await import(join(dir, file))) as { default?: ChaosScenario };
    const scenario = mod.default;
    if (!scenario || typeof scenario.run !== 'function' || typeof scenario.id !== 'string')
      throw new Error(`bench/chaos/scenarios/${file} does not export a default scenario { id, title, run }`);
    scenarios.push(scenario);
  }
  return scenarios;
}

export function machine() {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** Runs one scenario; a scenario that throws has failed (the error is its failure). */
export async function runScenario(
  scenario: ChaosScenario,
  short: boolean,
  out: (line: string) => void = (line) => console.log(line),
): Promise<ScenarioResult & { file: string }> {
  const started = Date.now();
  let result: ScenarioResult;
  try {
    result = await scenario.run({ short, out: (line) => out(`[${scenario.id}] ${line}`) });
  } catch (err) {
    result = {
      passed: false,
      figures: {},
      failures: [`the scenario stopped: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`],
    };
  }
  const passed = result.passed && result.failures.length === 0;
  mkdirSync(RESULTS_DIR, { recursive: true });
  // The short (CI) version never overwrites the committed figures of a full run.
  const file = join(RESULTS_DIR, `chaos-${scenario.id}${short ? '-short' : ''}.json`);
  const body = {
    scenario: scenario.id,
    title: scenario.title,
    short,
    passed,
    failures: result.failures,
    figures: result.figures,
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    machine: machine(),
    date: new Date().toISOString(),
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return { ...result, passed, file };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const short = args.includes('--short');
  const onlyArg = args.find((a) => a.startsWith('--only='));
  const unknown = args.filter((a) => a !== '--short' && !a.startsWith('--only='));
  const scenarios = await loadScenarios();
  const ids = scenarios.map((s) => s.id);
  const only = onlyArg
    ?.slice('--only='.length)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const wrong = (only ?? []).filter((id) => !ids.includes(id));
  if (unknown.length > 0 || wrong.length > 0 || (only !== undefined && only.length === 0)) {
    console.error(`usage: npm run chaos [-- --short] [--only=${ids.join(',')}]`);
    if (unknown.length > 0) console.error(`unknown arguments: ${unknown.join(' ')}`);
    if (wrong.length > 0) console.error(`unknown scenarios: ${wrong.join(', ')} (known: ${ids.join(', ')})`);
    return 2;
  }
  const chosen = scenarios.filter((s) => only === undefined || only.includes(s.id));
  const summary: Array<{ id: string; title: string; passed: boolean; failures: string[]; file: string }> = [];
  for (const scenario of chosen) {
    console.log(`\n=== chaos ${scenario.id}: ${scenario.title}${short ? ' (short)' : ''} ===`);
    const result = await runScenario(scenario, short);
    console.log(JSON.stringify(result.figures, null, 2));
    summary.push({
      id: scenario.id,
      title: scenario.title,
      passed: result.passed,
      failures: result.failures,
      file: result.file,
    });
  }
  console.log('\n=== chaos summary ===');
  for (const s of summary) {
    console.log(`${s.passed ? 'PASS' : 'FAIL'}  ${s.id}  ${s.title}  → ${s.file}`);
    for (const failure of s.failures) console.log(`      - ${failure}`);
  }
  return summary.every((s) => s.passed) ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
