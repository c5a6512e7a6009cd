/**
 * The CI version of chaos scenario R6 (bench/chaos/scenarios/r6-sigterm.ts, short: 2 s between
 * signals): each app SIGTERMed in turn under load on real PostgreSQL, Redis and RabbitMQ; every
 * request it was serving succeeds and the supervisor restarts it. The full run is `npm run chaos`.
 */
import r6 from '../../../bench/chaos/scenarios/r6-sigterm';

it('R6 (short): SIGTERM drains every in-flight request of each app, and the supervisor brings it back', async () => {
  const lines: string[] = [];
  const result = await r6.run({ short: true, out: (line) => lines.push(line) });
  expect({ failures: result.failures, figures: result.figures, lines }).toMatchObject({ failures: [] });
  expect(result.passed).toBe(true);
  console.log(lines.join('\n'));
}, 400_000);
