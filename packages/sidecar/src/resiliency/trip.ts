/**
 * Circuit-breaker trip expressions. Dapr evaluates them as CEL over the breaker's counts;
 * the expressions people write are comparisons of those counts joined by && / ||
 * (e.g. `consecutiveFailures > 5`), which is what this small evaluator accepts.
 */
export interface BreakerCounts {
  requests: number;
  totalSuccesses: number;
  totalFailures: number;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
}

const VARIABLES: ReadonlySet<string> = new Set([
  'requests',
  'totalSuccesses',
  'totalFailures',
  'consecutiveSuccesses',
  'consecutiveFailures',
]);
const COMPARISON = /^\s*\(?\s*([A-Za-z]+)\s*(>=|<=|==|!=|>|<)\s*(\d+)\s*\)?\s*$/;

type Comparison = (counts: BreakerCounts) => boolean;

function compileComparison(text: string, whole: string): Comparison {
  const m = COMPARISON.exec(text);
  const [, variable, op, literal] = m ?? [];
  if (variable === undefined || op === undefined || literal === undefined) {
    throw new Error(
      `unsupported trip expression "${whole}" (expected comparisons like "consecutiveFailures > 5" joined by && or ||)`,
    );
  }
  if (!VARIABLES.has(variable))
    throw new Error(
      `unknown variable "${variable}" in trip expression "${whole}" (known: ${[...VARIABLES].join(', ')})`,
    );
  const key = variable as keyof BreakerCounts;
  const n = Number(literal);
  switch (op) {
    case '>':
      return (c) => c[key] > n;
    case '>=':
      return (c) => c[key] >= n;
    case '<':
      return (c) => c[key] < n;
    case '<=':
      return (c) => c[key] <= n;
    case '==':
      return (c) => c[key] === n;
    default:
      return (c) => c[key] !== n;
  }
}

/** Compiles a trip expression; throws a descriptive error for anything outside the supported subset. */
export function parseTripExpression(expression: string): (counts: BreakerCounts) => boolean {
  const alternatives = expression
    .split('||')
    .map((alt) => alt.split('&&').map((part) => compileComparison(part, expression)));
  return (counts) => alternatives.some((all) => all.every((cmp) => cmp(counts)));
}
