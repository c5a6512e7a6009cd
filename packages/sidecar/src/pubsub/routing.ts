/**
 * Subscription routing rules: CEL expressions over `event`, tried in order; an empty
 * match is the default route (daprd `findMatchingRoute`).
 */
import { celEnv, isCelError, parse, plan, type CelInput, type CelResult } from '@bufbuild/cel';
import type { SubscriptionRule } from '../resources/types';

type Evaluate = (bindings: Record<string, CelInput>) => CelResult;

export interface CompiledRule {
  path: string;
  match: string;
  /** undefined for the default route (always matches) */
  evaluate: Evaluate | undefined;
}

const env = celEnv();

/** Compiles every rule up front so a bad expression fails the subscription at startup, not per message. */
export function compileRules(rules: SubscriptionRule[]): CompiledRule[] {
  return rules.map((rule) => {
    if (rule.match.trim() === '') return { path: rule.path, match: '', evaluate: undefined };
    try {
      const evaluate = plan(env, parse(rule.match)) as Evaluate;
      return { path: rule.path, match: rule.match, evaluate };
    } catch (err) {
      throw new Error(`invalid CEL expression ${JSON.stringify(rule.match)}: ${(err as Error).message}`, {
        cause: err,
      });
    }
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

export class RouteMatchError extends Error {
  override readonly name = 'RouteMatchError';
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
    if (isCelError(result)) throw new RouteMatchError(`evaluating ${JSON.stringify(rule.match)}: ${result.message}`);
    if (typeof result !== 'boolean') {
      throw new RouteMatchError(`the result of match expression ${rule.match} was not a boolean`);
    }
    if (result) return rule.path;
  }
  return undefined;
}
