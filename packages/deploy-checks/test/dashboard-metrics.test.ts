import { asRecord, type KubeObject } from '../src/objects';
import {
  dashboardMetricsNotProduced,
  dashboardQueries,
  formatMissingMetric,
  metricNamesInPromQL,
  renderedDashboards,
} from '../src/dashboard-metrics';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CHART_DIR, renderChart } from '../src/helm';
import { DAPRD_METRICS, DAPRD_VERSION } from '../src/daprd-metrics';
import { prometheusMetricName, type OtlpMetric } from '../src/prometheus-names';
import { METRIC_CATALOGUE } from '@quizmesh/platform/telemetry';

/**
 * The agreed metric catalogue (names, units and instrument kinds) the services emit, from the
 * platform's own definition. The platform's metrics test (packages/e2e/test/metrics.test.ts) feeds
 * dashboardMetricsNotProduced the metrics an in-test OTLP receiver collected from running services.
 */
const CATALOGUE: OtlpMetric[] = METRIC_CATALOGUE.map(({ name, unit, kind }) => ({ name, unit, kind }));

let objects: KubeObject[];

beforeAll(async () => {
  objects = await renderChart();
});

/** The rendered objects with one more dashboard in the dashboards ConfigMap. */
function withExtraDashboard(expr: string): KubeObject[] {
  const extra = { title: 'Extra', panels: [{ type: 'timeseries', title: 'Made up', targets: [{ refId: 'A', expr }] }] };
  return objects.map((object) =>
    object.kind === 'ConfigMap' && object.metadata.name === 'quizmesh-grafana-dashboards'
      ? { ...object, data: { ...asRecord(object.data), 'extra.json': JSON.stringify(extra) } }
      : object,
  );
}

describe('metric names in PromQL', () => {
  it('finds selected metrics, not functions, labels, label values, ranges, keywords, numbers or variables', () => {
    expect(
      metricNamesInPromQL(
        'histogram_quantile(0.99, sum by (service_name, le) (rate(http_server_request_duration_seconds_bucket{service_name=~"$service", http_route="/api/v1/quiz_total"}[$__rate_interval])))',
      ),
    ).toEqual(['http_server_request_duration_seconds_bucket']);
    expect(
      metricNamesInPromQL(
        'sum(rate(a_total[5m] offset 1h)) / on (job) group_left (pod) b_count > bool 1e3 or c unless sum without (x) (d) * 2^20 + ${var}',
      ),
    ).toEqual(['a_total', 'b_count', 'c', 'd']);
    expect(metricNamesInPromQL('max by (app_id) (dapr_resiliency_cb_state{app_id=~"$app"}) + 0x1F')).toEqual([
      'dapr_resiliency_cb_state',
    ]);
  });

  it('reads panel targets and query variables (label_values names a metric; label_values(label) does not)', () => {
    const queries = dashboardQueries({
      file: 'x.json',
      dashboard: {
        panels: [{ type: 'row', title: 'Row', panels: [{ title: 'Inner', targets: [{ expr: 'inner_metric' }] }] }],
        templating: {
          list: [
            { type: 'query', name: 'a', query: { query: 'label_values(var_metric, service_name)' } },
            { type: 'query', name: 'b', query: 'label_values(service_name)' },
            { type: 'custom', name: 'c', query: 'x,y' },
          ],
        },
      },
    });
    expect(queries).toEqual([
      { file: 'x.json', where: 'panel "Inner"', expr: 'inner_metric' },
      { file: 'x.json', where: 'variable "a"', expr: 'var_metric' },
    ]);
  });
});

describe('dashboards of the rendered chart (development values)', () => {
  it('provisions the platform overview, events and Dapr sidecar dashboards, each panel with a query', () => {
    const dashboards = renderedDashboards(objects);
    expect(dashboards.map(({ file, dashboard }) => [file, dashboard.uid, dashboard.title])).toEqual([
      ['dapr-sidecars.json', 'quizmesh-dapr', 'Quizmesh / Dapr sidecars'],
      ['events.json', 'quizmesh-events', 'Quizmesh / Events'],
      ['platform-overview.json', 'quizmesh-overview', 'Quizmesh / Platform overview'],
    ]);
    for (const { dashboard } of dashboards) {
      const panels = (dashboard.panels as Array<Record<string, unknown>>).filter((panel) => panel.type !== 'row');
      expect(panels.length).toBeGreaterThan(3);
      for (const panel of panels) {
        expect(panel.targets).toEqual(expect.arrayContaining([expect.objectContaining({ expr: expect.any(String) })]));
        // The datasource Grafana is provisioned with (templates/_observability.tpl).
        expect(panel.datasource).toEqual({ type: 'prometheus', uid: 'prometheus' });
      }
    }
  });

  it('gives each dashboard its own uid and each panel its own id (Grafana keys links and state by them)', () => {
    const dashboards = renderedDashboards(objects);
    expect(new Set(dashboards.map(({ dashboard }) => dashboard.uid)).size).toBe(dashboards.length);
    for (const { dashboard } of dashboards) {
      const ids = (dashboard.panels as Array<Record<string, unknown>>).map((panel) => panel.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('queries only metrics that the catalogue (through the collector) or daprd produce', () => {
    expect(dashboardMetricsNotProduced(objects, CATALOGUE).map(formatMissingMetric)).toEqual([]);
  });

  it('shows every metric of the catalogue somewhere, and daprd metrics on the Dapr dashboard', () => {
    const queried = new Set(
      renderedDashboards(objects)
        .flatMap(dashboardQueries)
        .flatMap(({ expr }) => metricNamesInPromQL(expr)),
    );
    for (const metric of CATALOGUE) {
      const family = prometheusMetricName(metric);
      expect([family, `${family}_bucket`, `${family}_count`].filter((name) => queried.has(name))).not.toEqual([]);
    }
    const dapr = renderedDashboards(objects).find(({ file }) => file === 'dapr-sidecars.json');
    const daprQueried = (dapr === undefined ? [] : dashboardQueries(dapr)).flatMap(({ expr }) =>
      metricNamesInPromQL(expr),
    );
    expect(daprQueried.filter((name) => name.startsWith('dapr_')).length).toBeGreaterThan(5);
    expect(DAPRD_METRICS.map(({ name }) => name)).toContain('dapr_http_server_request_count');
  });

  it('fails a dashboard that queries a metric nobody emits, naming the file, panel and metric', () => {
    expect(
      dashboardMetricsNotProduced(withExtraDashboard('sum(rate(quizmesh_made_up_total[5m]))'), CATALOGUE).map(
        formatMissingMetric,
      ),
    ).toEqual([
      'extra.json panel "Made up": quizmesh_made_up_total is produced by no service (OTLP -> Prometheus) and not by daprd',
    ]);
  });

  it('fails when a service stops emitting a queried metric, or emits it with another type or unit', () => {
    const withoutBacklog = CATALOGUE.filter(({ name }) => name !== 'quizmesh.outbox.backlog');
    expect(dashboardMetricsNotProduced(objects, withoutBacklog)).toEqual([
      { file: 'events.json', where: 'panel "Outbox backlog (unsent rows)"', metric: 'quizmesh_outbox_backlog' },
    ]);
    // An up-down counter has no _total; milliseconds change the suffix.
    const changed = CATALOGUE.map((metric) =>
      metric.name === 'quizmesh.gateway.rejections'
        ? { ...metric, kind: 'updowncounter' as const }
        : metric.name === 'quizmesh.submission.scoring.lag'
          ? { ...metric, unit: 'ms' }
          : metric,
    );
    expect([...new Set(dashboardMetricsNotProduced(objects, changed).map(({ metric }) => metric))].sort()).toEqual([
      'quizmesh_gateway_rejections_total',
      'quizmesh_submission_scoring_lag_seconds_bucket',
      'quizmesh_submission_scoring_lag_seconds_count',
    ]);
  });
});

describe("daprd's metric list", () => {
  it('was read at the Dapr version the chart pins (re-read pkg/diagnostics when Chart.yaml moves)', () => {
    const chart = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { annotations: Record<string, string> };
    expect(DAPRD_VERSION).toBe(chart.annotations['quizmesh.io/dapr-version']);
  });
});

describe('production values', () => {
  it('render no dashboards (no Grafana) on EKS', async () => {
    const eks = await renderChart({ valuesFiles: ['values-eks.yaml', 'ci/eks-values.yaml'] });
    expect(renderedDashboards(eks)).toEqual([]);
  });
});
