/** Resiliency state machines with a fake clock: logic, not timing. */
import {
  CircuitBreaker,
  CircuitOpenError,
  PermanentOutcome,
  StatusFailure,
  TargetPolicyRunner,
  backoffDelay,
  type Clock,
} from '../src/resiliency/policy';
import { Resiliency, componentTypeName } from '../src/resiliency/lookup';
import { parseTripExpression } from '../src/resiliency/trip';
import { emptyResiliency } from '../src/resources/loader';
import type { RetryPolicySpec } from '../src/resources/types';

class FakeClock implements Clock {
  time = 1_000_000;
  sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += ms;
  }
}

const fail = async (): Promise<never> => {
  throw new Error('boom');
};
const succeed = async (): Promise<string> => 'ok';

describe('trip expressions', () => {
  it('evaluates comparisons joined by && and ||', () => {
    const trip = parseTripExpression('consecutiveFailures > 2 || (requests >= 10 && totalFailures > 4)');
    const counts = {
      requests: 3,
      totalSuccesses: 0,
      totalFailures: 3,
      consecutiveSuccesses: 0,
      consecutiveFailures: 3,
    };
    expect(trip(counts)).toBe(true);
    expect(trip({ ...counts, consecutiveFailures: 2 })).toBe(false);
    expect(trip({ ...counts, consecutiveFailures: 0, requests: 10, totalFailures: 5 })).toBe(true);
  });

  it('rejects unknown variables and unsupported syntax with a clear message', () => {
    expect(() => parseTripExpression('failures > 3')).toThrow(/unknown variable "failures"/);
    expect(() => parseTripExpression('consecutiveFailures > size(x)')).toThrow(/unsupported trip expression/);
  });
});

describe('circuit breaker', () => {
  const spec = { maxRequests: 2, intervalMs: 0, timeoutMs: 30_000, trip: 'consecutiveFailures > 2' };

  it('opens after the trip condition, rejects while open, half-opens after the timeout and closes after maxRequests successes', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker('cb', spec, clock);
    for (let i = 0; i < 3; i++) await expect(breaker.execute(fail)).rejects.toThrow('boom');
    expect(breaker.currentState()).toBe('open');
    await expect(breaker.execute(succeed)).rejects.toBeInstanceOf(CircuitOpenError);

    clock.time += 30_000;
    expect(breaker.currentState()).toBe('half-open');
    await expect(breaker.execute(succeed)).resolves.toBe('ok');
    expect(breaker.currentState()).toBe('half-open');
    await expect(breaker.execute(succeed)).resolves.toBe('ok');
    expect(breaker.currentState()).toBe('closed');
  });

  it('re-opens on a failed half-open probe and limits concurrent probes to maxRequests', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker('cb', { ...spec, maxRequests: 1 }, clock);
    for (let i = 0; i < 3; i++) await breaker.execute(fail).catch(() => undefined);
    clock.time += 30_000;
    let release: () => void = () => undefined;
    const probe = breaker.execute(() => new Promise<string>((resolve) => (release = () => resolve('probe'))));
    await expect(breaker.execute(succeed)).rejects.toThrow(/too many requests/);
    release();
    await expect(probe).resolves.toBe('probe');
    expect(breaker.currentState()).toBe('closed');

    for (let i = 0; i < 3; i++) await breaker.execute(fail).catch(() => undefined);
    clock.time += 30_000;
    await breaker.execute(fail).catch(() => undefined);
    expect(breaker.currentState()).toBe('open');
  });

  it('clears counts every interval while closed, and does not count permanent outcomes as failures', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker('cb', { ...spec, intervalMs: 10_000 }, clock);
    await breaker.execute(fail).catch(() => undefined);
    await breaker.execute(fail).catch(() => undefined);
    clock.time += 10_000;
    await breaker.execute(fail).catch(() => undefined);
    expect(breaker.currentState()).toBe('closed');
    const permanent = async (): Promise<never> => {
      throw new PermanentOutcome(new Error('etag'));
    };
    for (let i = 0; i < 5; i++) await breaker.execute(permanent).catch(() => undefined);
    expect(breaker.currentState()).toBe('closed');
  });
});

describe('retries', () => {
  const constant: RetryPolicySpec = {
    policy: 'constant',
    durationMs: 250,
    maxIntervalMs: 60_000,
    maxRetries: 3,
    httpStatusCodes: undefined,
  };

  it('retries up to maxRetries with constant waits, then gives up with the last error', async () => {
    const clock = new FakeClock();
    const runner = new TargetPolicyRunner({ timeoutMs: undefined, retry: constant, breaker: undefined }, clock);
    let calls = 0;
    await expect(
      runner.run(async () => {
        calls += 1;
        throw new Error(`attempt ${calls}`);
      }),
    ).rejects.toThrow('attempt 4');
    expect(calls).toBe(4);
    expect(clock.sleeps).toEqual([250, 250, 250]);
  });

  it('retries only matching status codes and never permanent outcomes', async () => {
    const clock = new FakeClock();
    const runner = new TargetPolicyRunner(
      { timeoutMs: undefined, retry: { ...constant, httpStatusCodes: [[500, 599]] }, breaker: undefined },
      clock,
    );
    let calls = 0;
    await expect(
      runner.run(async () => {
        calls += 1;
        throw new StatusFailure(404, undefined);
      }),
    ).rejects.toBeInstanceOf(StatusFailure);
    expect(calls).toBe(1);
    calls = 0;
    const result = await runner.run(async () => {
      calls += 1;
      if (calls < 3) throw new StatusFailure(503, undefined);
      return 'recovered';
    });
    expect(result).toBe('recovered');
    expect(calls).toBe(3);
  });

  it('grows exponential back-off by 1.5 with ±50 % jitter, capped by maxInterval', () => {
    const exp: RetryPolicySpec = { ...constant, policy: 'exponential', maxIntervalMs: 2000 };
    expect(backoffDelay(exp, 1, () => 0.5)).toBe(500);
    expect(backoffDelay(exp, 2, () => 0.5)).toBe(750);
    expect(backoffDelay(exp, 3, () => 0)).toBe(562.5);
    expect(backoffDelay(exp, 20, () => 1)).toBe(2000);
  });
});

describe('policy lookup', () => {
  it('uses the named target first, then the most specific Default* policy', async () => {
    const spec = emptyResiliency();
    const retry = (maxRetries: number): RetryPolicySpec => ({
      policy: 'constant',
      durationMs: 1,
      maxIntervalMs: 1,
      maxRetries,
      httpStatusCodes: undefined,
    });
    spec.retries.set('named', retry(1));
    spec.retries.set('DefaultPubsubComponentInboundRetryPolicy', retry(2));
    spec.retries.set('DefaultRetryPolicy', retry(4));
    spec.components.set('orders', { inbound: { retry: 'named' } });
    const lookup = new Resiliency(spec, new FakeClock());
    const attempts = async (runner: { run: TargetPolicyRunner['run'] }): Promise<number> => {
      let n = 0;
      await runner
        .run(async () => {
          n += 1;
          throw new Error('x');
        })
        .catch(() => undefined);
      return n;
    };
    expect(await attempts(lookup.componentInbound('orders', 'pubsub.rabbitmq'))).toBe(2);
    expect(await attempts(lookup.componentInbound('other', 'pubsub.in-memory'))).toBe(3);
    expect(await attempts(lookup.componentOutbound('statestore', 'state.redis'))).toBe(5);
    expect(await attempts(lookup.app('quiz', 'quiz:api/v1/quizzes'))).toBe(5);
    expect(componentTypeName('secretstores.local.file')).toBe('Secretstore');
  });

  describe('circuit breakers are shared as daprd 1.16 shares them (pkg/resiliency/resiliency.go)', () => {
    const breakerSpec = { maxRequests: 1, intervalMs: 0, timeoutMs: 60_000, trip: 'consecutiveFailures > 2' };
    const failThrice = async (runner: { run: TargetPolicyRunner['run'] }): Promise<void> => {
      for (let i = 0; i < 3; i++) await expect(runner.run(fail)).rejects.toThrow('boom');
    };

    it('keeps one breaker per component: failed deliveries open the breaker publishing goes through', async () => {
      const spec = emptyResiliency();
      spec.circuitBreakers.set('cb', breakerSpec);
      spec.components.set('pubsub', { inbound: { circuitBreaker: 'cb' }, outbound: { circuitBreaker: 'cb' } });
      const lookup = new Resiliency(spec, new FakeClock());
      await failThrice(lookup.componentInbound('pubsub', 'pubsub.rabbitmq'));
      let published = false;
      await expect(
        lookup.componentOutbound('pubsub', 'pubsub.rabbitmq').run(async () => {
          published = true;
        }),
      ).rejects.toBeInstanceOf(CircuitOpenError);
      expect(published).toBe(false);
    });

    it('builds that breaker from the first direction asked; a direction naming no breaker runs without it', async () => {
      const spec = emptyResiliency();
      spec.circuitBreakers.set('strict', breakerSpec);
      spec.circuitBreakers.set('lenient', { ...breakerSpec, trip: 'consecutiveFailures > 100' });
      spec.components.set('pubsub', { inbound: { circuitBreaker: 'strict' }, outbound: { circuitBreaker: 'lenient' } });
      spec.components.set('nobreaker-out', { inbound: { circuitBreaker: 'strict' }, outbound: {} });
      const lookup = new Resiliency(spec, new FakeClock());
      // Outbound asked first: its lenient template is the component's breaker, for inbound too.
      const outbound = lookup.componentOutbound('pubsub', 'pubsub.rabbitmq');
      await failThrice(lookup.componentInbound('pubsub', 'pubsub.rabbitmq'));
      await expect(outbound.run(succeed)).resolves.toBe('ok');

      await failThrice(lookup.componentInbound('nobreaker-out', 'pubsub.rabbitmq'));
      await expect(lookup.componentInbound('nobreaker-out', 'pubsub.rabbitmq').run(succeed)).rejects.toBeInstanceOf(
        CircuitOpenError,
      );
      await expect(lookup.componentOutbound('nobreaker-out', 'pubsub.rabbitmq').run(succeed)).resolves.toBe('ok');
    });

    it('keeps one app-target breaker per endpoint (app:method), so one failing method leaves the others open', async () => {
      const spec = emptyResiliency();
      spec.circuitBreakers.set('app', breakerSpec);
      spec.apps.set('identity', { circuitBreaker: 'app' });
      const lookup = new Resiliency(spec, new FakeClock());
      await failThrice(lookup.app('identity', 'identity:api/v1/auth/login'));
      await expect(lookup.app('identity', 'identity:api/v1/auth/login').run(succeed)).rejects.toBeInstanceOf(
        CircuitOpenError,
      );
      await expect(lookup.app('identity', 'identity:api/v1/users/me').run(succeed)).resolves.toBe('ok');
    });
  });
});
