/**
 * ResiliencyLookup: picks the policies for a target in daprd's order (a named target first,
 * then the most specific Default* policy) and keeps the circuit breakers as daprd does.
 */
import type { PolicyRunner, ResiliencyLookup } from './types';
import type { CircuitBreakerSpec, ResiliencySpec, RetryPolicySpec, TargetPolicyRefs } from '../resources/types';
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

/** daprd's defaultEndpointCacheSize: app-target breakers kept per app (least recently used dropped). */
const ENDPOINT_BREAKERS_PER_APP = 100;

interface ResolvedPolicies {
  timeoutMs: number | undefined;
  retry: RetryPolicySpec | undefined;
  breakerName: string | undefined;
  breakerSpec: CircuitBreakerSpec | undefined;
}

/**
 * Circuit breakers are kept as daprd 1.16 keeps them (pkg/resiliency/resiliency.go):
 * - components: one breaker per component name (`componentCBs`), shared by
 *   ComponentInboundPolicy and ComponentOutboundPolicy and built from the template of whichever
 *   direction asks first; a direction that names no breaker runs without one;
 * - apps: one breaker per endpoint (`EndpointPolicy(app, app + ":" + method)`), in an LRU of
 *   100 per app.
 */
export class Resiliency implements ResiliencyLookup {
  private readonly runners = new Map<string, PolicyRunner>();
  private readonly componentBreakers = new Map<string, CircuitBreaker>();
  private readonly appPolicies = new Map<string, ResolvedPolicies>();
  private readonly endpointBreakers = new Map<string, Map<string, CircuitBreaker>>();

  constructor(
    private readonly spec: ResiliencySpec,
    private readonly clock: Clock = systemClock,
  ) {}

  app(appId: string, endpoint: string): PolicyRunner {
    let policies = this.appPolicies.get(appId);
    if (!policies) {
      policies = this.resolve(this.spec.apps.get(appId), ['DefaultApp']);
      this.appPolicies.set(appId, policies);
    }
    const { timeoutMs, retry, breakerName, breakerSpec } = policies;
    if (timeoutMs === undefined && retry === undefined && breakerSpec === undefined) return noPolicy;
    let breaker: CircuitBreaker | undefined;
    if (breakerSpec && breakerName !== undefined) {
      let cache = this.endpointBreakers.get(appId);
      if (!cache) {
        cache = new Map();
        this.endpointBreakers.set(appId, cache);
      }
      breaker = cache.get(endpoint);
      if (breaker) cache.delete(endpoint);
      else breaker = new CircuitBreaker(`${breakerName}/${endpoint}`, breakerSpec, this.clock);
      cache.set(endpoint, breaker);
      if (cache.size > ENDPOINT_BREAKERS_PER_APP) cache.delete(cache.keys().next().value as string);
    }
    return new TargetPolicyRunner({ timeoutMs, retry, breaker }, this.clock);
  }

  componentOutbound(name: string, componentType: string): PolicyRunner {
    const t = componentTypeName(componentType);
    return this.componentRunner(`out:${name}`, name, this.spec.components.get(name)?.outbound, [
      `Default${t}ComponentOutbound`,
      'DefaultComponentOutbound',
      'DefaultComponent',
    ]);
  }

  componentInbound(name: string, componentType: string): PolicyRunner {
    const t = componentTypeName(componentType);
    return this.componentRunner(`in:${name}`, name, this.spec.components.get(name)?.inbound, [
      `Default${t}ComponentInbound`,
      'DefaultComponentInbound',
      'DefaultComponent',
    ]);
  }

  private resolve(named: TargetPolicyRefs | undefined, defaults: string[]): ResolvedPolicies {
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
    return {
      timeoutMs: timeoutName === undefined ? undefined : this.spec.timeouts.get(timeoutName),
      retry: retryName === undefined ? undefined : this.spec.retries.get(retryName),
      breakerName,
      breakerSpec: breakerName === undefined ? undefined : this.spec.circuitBreakers.get(breakerName),
    };
  }

  private componentRunner(
    key: string,
    component: string,
    named: TargetPolicyRefs | undefined,
    defaults: string[],
  ): PolicyRunner {
    const cached = this.runners.get(key);
    if (cached) return cached;
    const { timeoutMs, retry, breakerName, breakerSpec } = this.resolve(named, defaults);
    let breaker: CircuitBreaker | undefined;
    if (breakerSpec && breakerName !== undefined) {
      breaker = this.componentBreakers.get(component);
      if (!breaker) {
        breaker = new CircuitBreaker(`${breakerName}-${component}`, breakerSpec, this.clock);
        this.componentBreakers.set(component, breaker);
      }
    }
    const runner =
      timeoutMs === undefined && retry === undefined && breaker === undefined
        ? noPolicy
        : new TargetPolicyRunner({ timeoutMs, retry, breaker }, this.clock);
    this.runners.set(key, runner);
    return runner;
  }
}
