/**
 * The CI version of the chaos suite (issue 12, item 5), and its only one: every scenario in
 * bench/chaos/scenarios (R1 consumer crashes, R2 replica loss, R5 poison, R6 SIGTERM) runs
 * shortened (`run({ short: true })`) on real RabbitMQ, PostgreSQL and Redis, still killing,
 * restarting and asserting. A scenario reports its failed expectations instead of throwing; the
 * test shows them. `npm run chaos` runs the full versions and writes bench/results.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ChaosScenario } from '../../../bench/chaos/scenario';

const SCENARIOS = join(__dirname, '..', '..', '..', 'bench', 'chaos', 'scenarios');
const files = readdirSync(SCENARIOS)
  .filter((f) => f.endsWith('.ts'))
  .sort();

it('finds the scenarios', () => {
  expect(files).toEqual(
    expect.arrayContaining(['r1-consumer-crash.ts', 'r2-replica-loss.ts', 'r5-poison.ts', 'r6-sigterm.ts']),
  );
});

describe.each(files)('chaos scenario %s, short', (file) => {
  it('passes every expectation', async () => {
    const scenario = ((await import(join(SCENARIOS, file))) as { default: ChaosScenario }).default;
    const lines: string[] = [];
    const result = await scenario.run({ short: true, out: (line) => lines.push(line) });
    // The figures and progress lines explain a failure.
    expect({ failures: result.failures, passed: result.passed, figures: result.figures, lines }).toMatchObject({
      failures: [],
      passed: true,
    });
    expect(lines.length).toBeGreaterThan(0);
  }, 900_000);
});
