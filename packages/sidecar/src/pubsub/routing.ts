/**
 * Subscription routing rules: CEL expressions over `event`, tried in order; an empty
 * match is the default route (daprd `findMatchingRoute`).
 */
import type { CelInput } from '@bufbuild/cel';
import type { SubscriptionRule } from '../resources/types';

/** The expression's value; throws RouteMatchError when it fails to evaluate. */
type Evaluate = (bindings: Record<string, CelInput>) => unknown;

export interface CompiledRule {
  path: string;
  match: string;
  /** undefined for the default route (always matches) */
  evaluate: Evaluate | undefined;
}

export class RouteMatchError extends Error {
  override readonly name = 'RouteMatchError';
}

const importCel = () => import('@bufbuild/cel');

/**
 * `@bufbuild/cel` (about 5 MB of heap) is loaded by the first subscription with a rule, never in
 * a sidecar whose subscriptions have none (decision 0880); one environment for the process.
 */
let cel: ReturnType<typeof loadCel> | undefined;

async function loadCel() {
  const lib = await importCel();
  return { lib, env: lib.celEnv() };
}

const isDefaultRoute = (rule: SubscriptionRule) => rule.match.trim() === '';

/** Compiles every rule up front so a bad expression fails the subscription at startup, not per message. */
export async function compileRules(rules: SubscriptionRule[]): Promise<CompiledRule[]> {
  if (rules.every(isDefaultRoute)) return rules.map((rule) => ({ path: rule.path, match: '', evaluate: undefined }));
  cel ??= loadCel();
  const { lib, env } = await cel;
  return rules.map((rule) => {
    if (isDefaultRoute(rule)) return { path: rule.path, match: '', evaluate: undefined };
    let planned: (bindings: Record<string, CelInput>) => unknown;
    try {
      planned = lib.plan(env, lib.parse(rule.match)) as typeof planned;
    } catch (err) {
      throw new Error(`invalid CEL expression ${JSON.stringify(rule.match)}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const evaluate: Evaluate = (bindings) => {
      const result = planned(bindings);
      if (lib.isCelError(result))
        throw new RouteMatchError(`evaluating ${JSON.stringify(rule.match)}: ${result.message}`);
      return result;
    };
    return { path: rule.path, match: rule.match, evaluate };
  });
}

/** JSON (as produced by JSON.parse) into CEL input; numbers become CEL doubles, as in daprd. */
function toCelInput(value: unknown): CelInput {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }
  if (Array.isArray(value)) return value.map(toCelInput);
  if (typeof value === 'object') {
    const out: { [key: string]: CelInput } = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) out[key] = toCelInput(item);
    return out;
  }
  return String(value);
}

/**
 * The path of the first rule whose expression is true; undefined when none matches.
 * Throws RouteMatchError when an expression fails to evaluate or is not boolean.
 */
export function matchRoute(rules: CompiledRule[], event: Record<string, unknown>): string | undefined {
  let bindings: Record<string, CelInput> | undefined;
  for (const rule of rules) {
    if (!rule.evaluate) return rule.path;
    bindings ??= { event: toCelInput(event) };
    const result = rule.evaluate(bindings);
    if (typeof result !== 'boolean') {
      throw new RouteMatchError(`the result of match expression ${rule.match} was not a boolean`);
    }
    if (result) return rule.path;
  }
  return undefined;
}
