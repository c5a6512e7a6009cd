/**
 * The fuzzer with CI's budget against the whole platform as `npm start` runs it (embedded
 * backends): every operation of the OpenAPI document reached, no 5xx, problem+json on every
 * error, no smuggled answer, no process restarted, no service left not ready (an open circuit
 * breaker), the limits still limiting. `npm run fuzz` runs the same with 10,000 requests.
 */
import { checkInvariants, fuzz, startFuzzTarget, type FuzzTarget } from '../src';

const BUDGET = Number(process.env.FUZZ_REQUESTS ?? 500);
jest.setTimeout(600_000);

describe('fuzzing the public API (CI budget)', () => {
  let target: FuzzTarget;
  beforeAll(async () => {
    target = await startFuzzTarget();
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('answers every fuzzed request without a 5xx, with problem+json errors, and leaves the platform intact', async () => {
    const summary = await fuzz({
      baseUrl: target.baseUrl,
      requests: BUDGET,
      seed: 11,
      tokens: target.tokens,
      refreshTokens: () => target.refreshTokens(),
    });
    expect(summary.operations.unreached).toEqual([]);
    expect(summary.operations.reached).toBeGreaterThanOrEqual(60);
    expect(summary.requests).toBeGreaterThanOrEqual(BUDGET);
    expect(summary.violations.slice(0, 10)).toEqual([]);
    expect(summary.violationCount).toBe(0);

    const invariants = await checkInvariants(target);
    expect(invariants).toEqual({
      processesGone: [],
      servicesNotReady: [],
      limits: { loginLimited: true, streamsPerUserLimited: true },
    });
  });
});
