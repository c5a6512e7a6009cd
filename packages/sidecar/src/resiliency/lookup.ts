/**
 * ResiliencyLookup: picks the policies for a target in daprd's order (a named target first,
 * then the most specific Default* policy) and keeps one circuit breaker per target.
 */
import type { PolicyRunner, ResiliencyLookup } from '../contracts';
import type { ResiliencySpec, TargetPolicyRefs } from '../resources/types';
import { CircuitBreaker, noPolicy, systemClock, TargetPolicyRunner, type Clock } from './policy';

type Kind = 'Timeout' | 'Retry' | 'CircuitBreaker';

/** `state.redis` → `Statestore`, as daprd names component types in Default* policy names. */
export function componentTypeName(componentType: string): string {
  const family = componentType.split('.')[0] ?? '';
  switch (family) {
    case 'state':
      return 'Statestore';
    case 'pubsub':
      return 'Pubsub';
    case 'bindings':
      return 'Binding';
    case 'secretstores':
      return 'Secretstore';
    default:
      return family.charAt(0).toUpperCase() + family.slice(1);
  }
}

export class Resiliency implements ResiliencyLookup {
  private readonly runners = new Map<string, PolicyRunner>();

  constructor(
    private readonly spec: ResiliencySpec,
    private readonly clock: Clock = systemClock,
  ) {}

  app(appId: string): PolicyRunner {
    return this.runner(`app:${appId}`, this.spec.apps.get(appId), ['DefaultApp']);
  }

  componentOutbound(name: string, componentType: string): PolicyRunner {
    const t = componentTypeName(componentType);
    return this.runner(`out:${name}`, this.spec.components.get(name)?.outbound, [
      `Default${t}ComponentOutbound`,
      'DefaultComponentOutbound',
      'DefaultComponent',
    ]);
  }

  componentInbound(name: string, componentType: string): PolicyRunner {
    const t = componentTypeName(componentType);
    return this.runner(`in:${name}`, this.spec.components.get(name)?.inbound, [
      `Default${t}ComponentInbound`,
      'DefaultComponentInbound',
      'DefaultComponent',
    ]);
  }

  private runner(key: string, named: TargetPolicyRefs | undefined, defaults: string[]): PolicyRunner {
    const cached = this.runners.get(key);
    if (cached) return cached;
    const chain = [...defaults, 'Default'];
    const pick = (kind: Kind, namedRef: string | undefined): string | undefined => {
      if (namedRef !== undefined) return namedRef;
      const has = (n: string): boolean =>
        kind === 'Timeout'
          ? this.spec.timeouts.has(n)
          : kind === 'Retry'
            ? this.spec.retries.has(n)
            : this.spec.circuitBreakers.has(n);
      return chain.map((prefix) => `${prefix}${kind}Policy`).find(has);
    };
    const timeoutName = pick('Timeout', named?.timeout);
    const retryName = pick('Retry', named?.retry);
    const breakerName = pick('CircuitBreaker', named?.circuitBreaker);
    const breakerSpec = breakerName === undefined ? undefined : this.spec.circuitBreakers.get(breakerName);
    const runner =
      timeoutName === undefined && retryName === undefined && breakerSpec === undefined
        ? noPolicy
        : new TargetPolicyRunner(
            {
              timeoutMs: timeoutName === undefined ? undefined : this.spec.timeouts.get(timeoutName),
              retry: retryName === undefined ? undefined : this.spec.retries.get(retryName),
              breaker:
                breakerSpec && breakerName !== undefined
                  ? new CircuitBreaker(`${breakerName}/${key}`, breakerSpec, this.clock)
                  : undefined,
            },
            this.clock,
          );
    this.runners.set(key, runner);
    return runner;
  }
}
