import { asArray, asRecord, asString, isRecord, type KubeObject } from './objects';
import { daprdSeriesNames } from './daprd-metrics';
import { prometheusSeriesNames, type OtlpMetric } from './prometheus-names';

/** One Grafana dashboard as the chart renders it (a key of the dashboards ConfigMap). */
export interface RenderedDashboard {
  file: string;
  dashboard: Record<string, unknown>;
}

/** A PromQL expression of a dashboard, with where it sits (panel or variable title). */
export interface DashboardQuery {
  file: string;
  where: string;
  expr: string;
}

export interface MissingMetric {
  file: string;
  where: string;
  metric: string;
}

/** The dashboards the chart provisions: every JSON key of the `*-grafana-dashboards` ConfigMap. */
export function renderedDashboards(objects: KubeObject[]): RenderedDashboard[] {
  return objects
    .filter((object) => object.kind === 'ConfigMap' && object.metadata.name.endsWith('-grafana-dashboards'))
    .flatMap((configMap) => Object.entries(asRecord(configMap.data)))
    .filter(([file]) => file.endsWith('.json'))
    .map(([file, text]) => ({ file, dashboard: asRecord(JSON.parse(String(text))) }))
    .sort((a, b) => a.file.localeCompare(b.file));
}

function panelsOf(container: Record<string, unknown>): Record<string, unknown>[] {
  // Rows may hold their panels when collapsed.
  return asArray(container.panels)
    .filter(isRecord)
    .flatMap((panel) => [panel, ...panelsOf(panel)]);
}

/** `label_values(metric, label)` and `query_result(expr)` variables query metrics too. */
function variableExpression(query: unknown): string | undefined {
  const text = typeof query === 'string' ? query : asString(asRecord(query).query);
  if (text === undefined || text.trim() === '') return undefined;
  const labelValues = /^\s*label_values\(\s*(.*?)\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/s.exec(text);
  if (labelValues !== null) return labelValues[1];
  const queryResult = /^\s*query_result\((.*)\)\s*$/s.exec(text);
  if (queryResult !== null) return queryResult[1];
  // label_names(), label_values(label) and metrics(regex) name no metric.
  if (/^\s*(label_names|label_values|metrics)\(/.test(text)) return undefined;
  return text;
}

/** Every PromQL expression of a dashboard: panel targets and query variables. */
export function dashboardQueries({ file, dashboard }: RenderedDashboard): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  for (const panel of panelsOf(dashboard)) {
    for (const target of asArray(panel.targets).filter(isRecord)) {
      const expr = asString(target.expr);
      if (expr !== undefined && expr.trim() !== '')
        queries.push({ file, where: `panel "${asString(panel.title) ?? '?'}"`, expr });
    }
  }
  for (const variable of asArray(asRecord(dashboard.templating).list).filter(isRecord)) {
    if (variable.type !== 'query') continue;
    const expr = variableExpression(variable.query);
    if (expr !== undefined) queries.push({ file, where: `variable "${asString(variable.name) ?? '?'}"`, expr });
  }
  return queries;
}

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects. Strings, label matchers `{...}`, ranges and
 * subqueries `[...]`, grouping clauses `by (...)` and Grafana variables are removed first; what is
 * left that looks like an identifier, is not a keyword and is not called like a function is a
 * metric name (numbers such as 1e3 or 0x1F are not identifiers: they start with a digit).
 */
export function metricNamesInPromQL(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![0-9A-Za-z_:.])[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = match[0];
    const rest = stripped.slice((match.index ?? 0) + name.length);
    if (PROMQL_KEYWORDS.has(name.toLowerCase()) || /^\s*\(/.test(rest)) continue;
    names.add(name);
  }
  return [...names].sort();
}

/**
 * Every metric the rendered chart's dashboards query that nothing produces: not a Prometheus
 * series of the given OTLP metrics (as the collector's prometheus exporter names them) and not one
 * of daprd's own (src/daprd-metrics.ts). An empty list means the dashboards only show what exists.
 */
export function dashboardMetricsNotProduced(
  objects: KubeObject[],
  otlpMetrics: readonly OtlpMetric[],
): MissingMetric[] {
  const produced = new Set([...otlpMetrics.flatMap(prometheusSeriesNames), ...daprdSeriesNames()]);
  const missing: MissingMetric[] = [];
  for (const dashboard of renderedDashboards(objects)) {
    for (const { file, where, expr } of dashboardQueries(dashboard)) {
      for (const metric of metricNamesInPromQL(expr)) if (!produced.has(metric)) missing.push({ file, where, metric });
    }
  }
  return missing;
}

export function formatMissingMetric({ file, where, metric }: MissingMetric): string {
  return `${file} ${where}: ${metric} is produced by no service (OTLP -> Prometheus) and not by daprd`;
}
