/**
 * `npm run fuzz -- [--requests 10000] [--seed N] [--url http://127.0.0.1:8080] [--concurrency 8]`
 * Starts the whole platform as `npm start` does (unless --url names a running gateway), fuzzes
 * it, checks the invariants, prints the figures and writes bench/results/fuzz-summary.json.
 * Exits 1 on any violation.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkInvariants, fuzz, startFuzzTarget } from './index';

/** The command's report goes to stdout. */
function print(...parts: unknown[]): void {
  process.stdout.write(`${parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ')}\n`);
}

async function main() {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '10000' },
      seed: { type: 'string' },
      url: { type: 'string' },
      concurrency: { type: 'string', default: '8' },
      out: { type: 'string', default: join(__dirname, '..', '..', '..', 'bench', 'results', 'fuzz-summary.json') },
    },
  });
  const target = await startFuzzTarget(values.url);
  try {
    print(`fuzzing ${target.baseUrl} with ${values.requests} requests`);
    const summary = await fuzz({
      baseUrl: target.baseUrl,
      requests: Number(values.requests),
      ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
      concurrency: Number(values.concurrency),
      tokens: target.tokens,
      refreshTokens: () => target.refreshTokens(),
      onProgress: (done) => print(`  ${done} requests`),
    });
    const invariants = await checkInvariants(target);
    const ok =
      summary.violationCount === 0 &&
      summary.operations.unreached.length === 0 &&
      invariants.processesGone.length === 0 &&
      invariants.servicesNotReady.length === 0 &&
      invariants.limits.loginLimited &&
      invariants.limits.streamsPerUserLimited;
    const result = {
      date: new Date().toISOString(),
      target: values.url ?? 'npm start (embedded)',
      ok,
      ...summary,
      invariants,
    };
    print(
      `${summary.requests} requests in ${(summary.durationMs / 1000).toFixed(1)} s (${summary.requestsPerSecond}/s), ` +
        `${summary.operations.reached}/${summary.operations.total} operations reached, ${summary.violationCount} violations`,
    );
    print('by status:', JSON.stringify(summary.byStatus));
    print('invariants:', JSON.stringify(invariants));
    for (const v of summary.violations.slice(0, 20)) print(`  ✗ ${v.status} ${v.request}: ${v.problem}`);
    mkdirSync(join(values.out, '..'), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
    print(`summary: ${values.out}`);
    process.exitCode = ok ? 0 : 1;
  } finally {
    await target.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
