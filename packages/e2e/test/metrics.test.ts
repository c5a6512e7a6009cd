/**
 * Metrics end to end: every app of `npm start` exports OTLP metrics to a receiver in this test
 * while players, an author, an admin and the operator use the platform through its public API
 * (src/metrics-scenario.ts). Every metric of the agreed catalogue must arrive with a non-zero
 * value, with its unit, only its allowed attributes (route templates, never ids), from the
 * services that own it, and with the same resource attributes as the traces. The chart's
 * dashboards may query only the metrics this receiver collected (after the collector's
 * translation to Prometheus names), so they cannot rot.
 */
import { dashboardMetricsNotProduced, formatMissingMetric, renderChart } from '@quizmesh/deploy-checks';
import {
  catalogueMissing,
  eventually,
  isNonZero,
  METRIC_SERVICES,
  missing,
  startMetricsScenario,
  type MetricsScenario,
} from '../src';
import { METRIC_CATALOGUE } from '@quizmesh/platform/telemetry';

jest.setTimeout(300_000);

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

let scenario: MetricsScenario;

beforeAll(async () => {
  scenario = await startMetricsScenario();
  await eventually(
    'every catalogue metric with a non-zero value',
    async () => {
      const absent = catalogueMissing(scenario.receiver);
      if (absent.length > 0) throw missing(`no non-zero point yet: ${absent.map((m) => m.name).join(', ')}`);
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}, 300_000);

afterAll(async () => {
  await scenario?.stop();
}, 120_000);

describe('metrics from every service', () => {
  it('comes with the load generator playing: submissions accepted, nothing failed', () => {
    expect({ ok: scenario.load.ok, problems: scenario.load.problems, errors: scenario.load.errors.total }).toEqual({
      ok: true,
      problems: [],
      errors: 0,
    });
    expect(scenario.load.submissions.accepted).toBeGreaterThan(0);
  });

  it("lets the chart's dashboards query only metrics the receiver collected (or daprd's)", async () => {
    const chart = await renderChart();
    expect(dashboardMetricsNotProduced(chart, scenario.receiver.metrics()).map(formatMissingMetric)).toEqual([]);
  });

  it('receives every catalogue metric with a non-zero value and its unit, decoded without rejections', () => {
    const { receiver } = scenario;
    expect(receiver.rejected).toEqual([]);
    for (const metric of METRIC_CATALOGUE) {
      const points = receiver.pointsOf(metric.name);
      expect({ metric: metric.name, nonZero: points.some(isNonZero) }).toEqual({ metric: metric.name, nonZero: true });
      expect({ metric: metric.name, units: [...new Set(points.map((p) => p.unit))] }).toEqual({
        metric: metric.name,
        units: [metric.unit],
      });
    }
  });

  it('carries only the allowed attributes, with bounded values: route templates, no ids', () => {
    const violations: string[] = [];
    for (const metric of METRIC_CATALOGUE) {
      for (const point of scenario.receiver.pointsOf(metric.name)) {
        for (const [key, value] of Object.entries(point.attributes)) {
          const allowed = metric.attributes[key];
          if (allowed === undefined) violations.push(`${metric.name}: attribute ${key} is not allowed`);
          else if (allowed !== null && !allowed.includes(value as string | number))
            violations.push(`${metric.name}: ${key}=${String(value)} is not one of ${allowed.join(', ')}`);
          if (UUID.test(String(value))) violations.push(`${metric.name}: ${key}=${String(value)} holds an id`);
        }
      }
    }
    expect(violations).toEqual([]);

    const routes = new Set(
      scenario.receiver.pointsOf('http.server.request.duration').map((p) => p.attributes['http.route']),
    );
    // The gateway's table and the services' Express routes, both as templates.
    expect(routes).toContain('/api/v1/quizzes/{id}');
    expect(routes).toContain('/api/v1/attempts/{id}/submit');
    expect(routes).toContain('/events/quiz.completed');
  });

  it('comes from the services that own each metric, with the resource attributes of the traces', () => {
    const { receiver } = scenario;
    const servicesOf = (name: string) => [...new Set(receiver.pointsOf(name).map((p) => p.service))].sort();
    expect(servicesOf('http.server.request.duration')).toEqual([...METRIC_SERVICES].sort());
    expect(servicesOf('nodejs.eventloop.utilization')).toEqual([...METRIC_SERVICES].sort());
    expect(servicesOf('quizmesh.outbox.backlog')).toEqual(['evaluation', 'identity', 'quiz']);
    expect(receiver.pointsOf('quizmesh.outbox.backlog', 'identity').some(isNonZero)).toBe(true);
    expect(receiver.pointsOf('quizmesh.submission.scoring.lag').every((p) => p.service === 'evaluation')).toBe(true);
    expect(receiver.pointsOf('quizmesh.sse.connections').every((p) => p.service === 'gateway')).toBe(true);
    expect(receiver.pointsOf('quizmesh.operator.reconciles').every((p) => p.service === 'operator')).toBe(true);
    expect(
      receiver
        .pointsOf('quizmesh.consumer.messages')
        .some((p) => p.attributes['quizmesh.outcome'] === 'drop' && p.service === 'evaluation'),
    ).toBe(true);
    expect(
      receiver
        .pointsOf('quizmesh.consumer.messages')
        .some((p) => p.attributes['quizmesh.outcome'] === 'retry' && p.service === 'evaluation' && isNonZero(p)),
    ).toBe(true);
    // The gateway's rejections of both kinds; and players' reads of the quiz view it keeps, some
    // served from it, some forwarded.
    for (const [metric, attribute, value] of [
      ['quizmesh.gateway.rejections', 'quizmesh.reason', 'rate_limit'],
      ['quizmesh.gateway.rejections', 'quizmesh.reason', 'circuit_open'],
      ['quizmesh.gateway.cache.lookups', 'quizmesh.result', 'hit'],
      ['quizmesh.gateway.cache.lookups', 'quizmesh.result', 'miss'],
    ] as const)
      expect({
        metric,
        value,
        seen: receiver.pointsOf(metric, 'gateway').some((p) => p.attributes[attribute] === value && isNonZero(p)),
      }).toEqual({ metric, value, seen: true });

    for (const point of receiver.dataPoints) {
      expect({
        namespace: point.resource['service.namespace'],
        version: typeof point.resource['service.version'],
        instance: typeof point.resource['service.instance.id'],
      }).toEqual({ namespace: 'quizmesh', version: 'string', instance: 'string' });
    }
  });
});
