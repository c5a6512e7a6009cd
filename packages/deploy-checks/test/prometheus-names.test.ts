import { prometheusMetricName, prometheusSeriesNames, type OtlpMetric } from '../src/prometheus-names';

type UpstreamType = 'gauge' | 'counter' | 'upDownCounter' | 'histogram' | 'exponentialHistogram' | 'summary';

/** otlptranslator's MetricType -> the kind the platform's receiver reports. */
function metric(name: string, unit: string, type: UpstreamType): OtlpMetric {
  if (type === 'upDownCounter') return { name, unit, kind: 'updowncounter' };
  if (type === 'exponentialHistogram' || type === 'summary') return { name, unit, kind: 'other' };
  return { name, unit, kind: type };
}

/**
 * github.com/prometheus/otlptranslator v1.0.0, metric_namer_test.go TestMetricNamer_Build: every
 * case with WithMetricSuffixes true, UTF8Allowed false and no namespace (the collector's prometheus
 * exporter default). [test name, metric name, unit, type, expected].
 */
const UPSTREAM_CASES: Array<[string, string, string, UpstreamType, string]> = [
  ['counter metric with total suffix', 'requests', '', 'counter', 'requests_total'],
  ['gauge with unit 1 gets ratio suffix', 'cpu_usage', '1', 'gauge', 'cpu_usage_ratio'],
  ['counter with unit 1 does not get ratio suffix', 'items', '1', 'counter', 'items_total'],
  ['metric with time unit', 'response_time', 'ms', 'gauge', 'response_time_milliseconds'],
  ['metric with bytes unit', 'memory_usage', 'By', 'gauge', 'memory_usage_bytes'],
  ['metric with per unit', 'requests', '1/s', 'gauge', 'requests_per_second'],
  ['metric with complex per unit', 'throughput', 'By/s', 'gauge', 'throughput_bytes_per_second'],
  ['metric with unknown unit', 'custom_metric', 'custom_unit', 'gauge', 'custom_metric_custom_unit'],
  ['metric with unit containing braces is ignored', 'custom_metric', '{custom}', 'gauge', 'custom_metric'],
  ['metric with per unit containing braces is ignored', 'custom_metric', 'By/{custom}', 'gauge', 'custom_metric_bytes'],
  ['metric name already contains total suffix', 'requests_total', '', 'counter', 'requests_total'],
  ['metric name already contains ratio suffix', 'cpu_usage_ratio', '1', 'gauge', 'cpu_usage_ratio'],
  ['metric name already contains unit suffix', 'response_time_seconds', 's', 'gauge', 'response_time_seconds'],
  [
    'metric with multiple underscores normalized',
    'metric__with__multiple__underscores',
    'unit__multiple__underscores',
    'gauge',
    'metric_with_multiple_underscores_unit_multiple_underscores',
  ],
  [
    'metric with special chars in unit',
    'custom_metric',
    'unit@with#special/chars',
    'gauge',
    'custom_metric_unit_with_special_per_chars',
  ],
  ['histogram metric type', 'request_duration', 's', 'histogram', 'request_duration_seconds'],
  ['exponential histogram metric type', 'request_size', 'By', 'exponentialHistogram', 'request_size_bytes'],
  ['summary metric type', 'response_time', 'ms', 'summary', 'response_time_milliseconds'],
  ['non-monotonic counter metric type', 'active_connections', '', 'upDownCounter', 'active_connections'],
  ['metric with days unit', 'uptime', 'd', 'gauge', 'uptime_days'],
  ['metric with hours unit', 'duration', 'h', 'gauge', 'duration_hours'],
  ['metric with minutes unit', 'timeout', 'min', 'gauge', 'timeout_minutes'],
  ['metric with microseconds unit', 'latency', 'us', 'gauge', 'latency_microseconds'],
  ['metric with nanoseconds unit', 'precision_time', 'ns', 'gauge', 'precision_time_nanoseconds'],
  ['metric with kibibytes unit', 'cache_size', 'KiBy', 'gauge', 'cache_size_kibibytes'],
  ['metric with mebibytes unit', 'memory', 'MiBy', 'gauge', 'memory_mebibytes'],
  ['metric with gibibytes unit', 'storage', 'GiBy', 'gauge', 'storage_gibibytes'],
  ['metric with tibibytes unit', 'capacity', 'TiBy', 'gauge', 'capacity_tibibytes'],
  ['metric with kilobytes unit', 'transfer', 'KBy', 'gauge', 'transfer_kilobytes'],
  ['metric with megabytes unit', 'download', 'MBy', 'gauge', 'download_megabytes'],
  ['metric with gigabytes unit', 'backup', 'GBy', 'gauge', 'backup_gigabytes'],
  ['metric with terabytes unit', 'archive', 'TBy', 'gauge', 'archive_terabytes'],
  ['metric with meters unit', 'distance', 'm', 'gauge', 'distance_meters'],
  ['metric with volts unit', 'voltage', 'V', 'gauge', 'voltage_volts'],
  ['metric with amperes unit', 'current', 'A', 'gauge', 'current_amperes'],
  ['metric with joules unit', 'energy', 'J', 'gauge', 'energy_joules'],
  ['metric with watts unit', 'power', 'W', 'gauge', 'power_watts'],
  ['metric with grams unit', 'weight', 'g', 'gauge', 'weight_grams'],
  ['metric with celsius unit', 'temperature', 'Cel', 'gauge', 'temperature_celsius'],
  ['metric with hertz unit', 'frequency', 'Hz', 'gauge', 'frequency_hertz'],
  ['metric with percent unit', 'cpu_usage', '%', 'gauge', 'cpu_usage_percent'],
  ['metric with per minute unit', 'requests', '1/m', 'gauge', 'requests_per_minute'],
  ['metric with per hour unit', 'events', '1/h', 'gauge', 'events_per_hour'],
  ['metric with per day unit', 'transactions', '1/d', 'gauge', 'transactions_per_day'],
  ['metric with per week unit', 'reports', '1/w', 'gauge', 'reports_per_week'],
  ['metric with per month unit', 'invoices', '1/mo', 'gauge', 'invoices_per_month'],
  ['metric with per year unit', 'renewals', '1/y', 'gauge', 'renewals_per_year'],
  ['metric with unknown per unit', 'custom', '1/custom_unit', 'gauge', 'custom_per_custom_unit'],
  ['metric with empty per unit', 'metric', 'By/', 'gauge', 'metric_bytes'],
  ['metric with whitespace in unit', 'metric', ' By / s ', 'gauge', 'metric_bytes_per_second'],
  ['metric with only slash in unit', 'metric', '/', 'gauge', 'metric'],
  [
    'http.request.duration/Prometheus-style',
    'http.request.duration',
    'ms',
    'histogram',
    'http_request_duration_milliseconds',
  ],
  ['http.requests/Prometheus-style', 'http.requests', '1', 'counter', 'http_requests_total'],
];

describe('OTLP -> Prometheus metric names (otlptranslator v1.0.0 cases)', () => {
  it.each(UPSTREAM_CASES)('%s', (_case, name, unit, type, expected) => {
    expect(prometheusMetricName(metric(name, unit, type))).toBe(expected);
  });

  it('refuses a name that normalises to nothing, as upstream does', () => {
    expect(() => prometheusMetricName(metric('@#$%', '', 'gauge'))).toThrow('resulted in an empty or invalid name');
  });
});

describe('series names Prometheus stores', () => {
  it('gives a histogram its _bucket, _sum and _count and a counter one _total series', () => {
    expect(prometheusSeriesNames(metric('http.server.request.duration', 's', 'histogram'))).toEqual([
      'http_server_request_duration_seconds_bucket',
      'http_server_request_duration_seconds_sum',
      'http_server_request_duration_seconds_count',
    ]);
    expect(prometheusSeriesNames(metric('quizmesh.consumer.messages', '{message}', 'counter'))).toEqual([
      'quizmesh_consumer_messages_total',
    ]);
    expect(prometheusSeriesNames(metric('quizmesh.sse.connections', '{connection}', 'upDownCounter'))).toEqual([
      'quizmesh_sse_connections',
    ]);
  });

  it('gives no series for exponential histograms, which the prometheus exporter cannot convert', () => {
    expect(prometheusSeriesNames(metric('quizmesh.submission.scoring.lag', 's', 'exponentialHistogram'))).toEqual([]);
  });
});
