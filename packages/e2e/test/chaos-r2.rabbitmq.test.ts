/**
 * The CI version of chaos scenario R2 (bench/chaos/scenarios/r2-replica-loss.ts, short: ~15 s of
 * load): two replicas of quiz and evaluation on real PostgreSQL, Redis and RabbitMQ, one of each
 * SIGKILLed under load; it still kills, waits for the supervisor's restarts and asserts. The full
 * 60 s run is `npm run chaos`.
 */
import r2 from '../../../bench/chaos/scenarios/r2-replica-loss';

it('R2 (short): only requests in flight at a kill fail while a quiz and an evaluation replica are SIGKILLed', async () => {
  const lines: string[] = [];
  const result = await r2.run({ short: true, out: (line) => lines.push(line) });
  // The figures and the scenario's own lines go to the report when it fails.
  expect({ failures: result.failures, figures: result.figures, lines }).toMatchObject({ failures: [] });
  expect(result.passed).toBe(true);
  console.log(lines.join('\n'));
  expect(result.figures.requests).toBeGreaterThan(0);
}, 400_000);
