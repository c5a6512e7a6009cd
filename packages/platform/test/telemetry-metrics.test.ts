/**
 * The metric instruments against a real MeterProvider in this process: what the platform
 * records arrives under the catalogue's names and units, routes as templates, and nothing is
 * recorded (nor fails) while the API's no-op provider is the global one (telemetry off).
 */
import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { createHttpApp } from '../src/http';
import { METRIC_CATALOGUE, recordConsumedMessage, routeTemplate } from '../src/telemetry';

describe('routeTemplate', () => {
  it('spells Express parameters as the OpenAPI document and the gateway do', () => {
    expect(routeTemplate('/api/v1/quizzes/:id/versions/:version')).toBe('/api/v1/quizzes/{id}/versions/{version}');
    expect(routeTemplate('/events/quiz.completed')).toBe('/events/quiz.completed');
  });
});

describe('instruments on a registered MeterProvider', () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const provider = new MeterProvider({ readers: [reader] });

  afterAll(async () => {
    metrics.disable();
    await provider.shutdown();
  });

  it('records nothing while telemetry is off, then records under the catalogue once the SDK registered', async () => {
    recordConsumedMessage('quiz.completed', 'retry'); // the no-op provider: must not throw
    metrics.setGlobalMeterProvider(provider);

    const app = createHttpApp({
      service: 'test',
      logger: pino({ level: 'silent' }),
      routes: (a: express.Express) => {
        a.get('/api/v1/things/:id', (_req, res) => {
          res.json({});
        });
      },
    });
    await request(app).get('/api/v1/things/4f0a4b9e-7f2e-4c36-9d38-1d1f5d2f9e10').expect(200);
    await request(app).get('/healthz').expect(200);
    await request(app).get('/nowhere').expect(404);
    recordConsumedMessage('quiz.completed', 'drop');

    await reader.forceFlush();
    const metricsOf = (exported: ResourceMetrics[]) =>
      exported.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const exported = metricsOf(exporter.getMetrics());
    const duration = exported.find((m) => m.descriptor.name === 'http.server.request.duration');
    expect(duration?.descriptor.unit).toBe('s');
    expect(duration?.dataPoints.map((p) => p.attributes)).toEqual([
      { 'http.request.method': 'GET', 'http.response.status_code': 200, 'http.route': '/api/v1/things/{id}' },
      // no route matched: no http.route, never the raw path; the probe is not recorded
      { 'http.request.method': 'GET', 'http.response.status_code': 404 },
    ]);
    const consumed = exported.find((m) => m.descriptor.name === 'quizmesh.consumer.messages');
    expect(consumed?.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'messaging.destination.name': 'quiz.completed', 'quizmesh.outcome': 'drop' }, 1],
    ]);
    for (const metric of exported) {
      const entry = METRIC_CATALOGUE.find((m) => m.name === metric.descriptor.name);
      expect({ name: metric.descriptor.name, unit: entry?.unit }).toEqual({
        name: metric.descriptor.name,
        unit: metric.descriptor.unit,
      });
    }
  });
});
