/**
 * OTLP metric name -> Prometheus name, as the collector's prometheus exporter writes it with its
 * default translation (UnderscoreEscapingWithSuffixes). Ported from github.com/prometheus/otlptranslator
 * v1.0.0, metric_namer.go (normalizeName, addUnitTokens) and unit_namer.go (buildUnitSuffixes,
 * cleanUpUnit), which exporter/prometheusexporter/collector.go of opentelemetry-collector-contrib
 * calls through otlptranslator.MetricNamer (docs/decisions/0920).
 */

/**
 * An OTLP metric's instrument kind, as the platform's catalogue and in-test OTLP receiver name it
 * (a monotonic Sum is a counter, a non-monotonic one an up-down counter; `other` = exponential
 * histogram or summary).
 */
export type OtlpMetricKind = 'histogram' | 'counter' | 'updowncounter' | 'gauge' | 'other';

/** Name, unit and kind: all the translation reads (extra fields, e.g. a received data point's, are ignored). */
export interface OtlpMetric {
  name: string;
  unit: string;
  kind: OtlpMetricKind;
}

/** otlptranslator's unitMap: UCUM units -> Prometheus base-unit words. */
const UNIT_WORDS: Record<string, string> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
};

/** otlptranslator's perUnitMap: the unit after "/" (singular). */
const PER_UNIT_WORDS: Record<string, string> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

const INVALID_CHAR = /[^a-zA-Z0-9:]/g;

function tokens(text: string): string[] {
  return text.split(INVALID_CHAR).filter((token) => token !== '');
}

/** Unit text with invalid characters as "_", runs of "_" collapsed, no leading "_" (cleanUpUnit). */
function cleanUpUnit(unit: string): string {
  return unit.replace(INVALID_CHAR, '_').replace(/_+/g, '_').replace(/^_/, '');
}

/** Main and "per" suffixes of a UCUM unit; annotations such as `{event}` give none (buildUnitSuffixes). */
function unitSuffixes(unit: string): { main: string; per: string } {
  const [mainPart = '', perPart] = unit.split(/\/(.*)/s, 2);
  const mainUnit = mainPart.trim();
  const main = mainUnit !== '' && !/[{}]/.test(mainUnit) ? (UNIT_WORDS[mainUnit] ?? mainUnit) : '';
  let per = '';
  if (perPart !== undefined && perPart !== '') {
    const perUnit = perPart.trim();
    if (perUnit !== '' && !/[{}]/.test(perUnit)) per = PER_UNIT_WORDS[perUnit] ?? perUnit;
    if (per !== '') per = `per_${per}`;
  }
  return { main, per };
}

/**
 * The Prometheus metric family name of an OTLP metric: name tokens joined by "_", then the unit
 * ("s" -> seconds, "By" -> bytes, `{...}` dropped, "X/Y" -> X_per_Y) unless already a token, then
 * `_total` for monotonic sums and `_ratio` for gauges of unit "1". Throws when nothing is left.
 */
export function prometheusMetricName(metric: OtlpMetric): string {
  let nameTokens = tokens(metric.name);
  const { kind } = metric;
  const suffixes = unitSuffixes(metric.unit);
  let main = cleanUpUnit(suffixes.main);
  let per = cleanUpUnit(suffixes.per);
  if (nameTokens.includes(main)) main = '';
  if (per === 'per_') per = '';
  else {
    per = per.replace(/_$/, '');
    if (nameTokens.includes(per)) per = '';
  }
  if (per !== '') main = main.replace(/_$/, '');
  if (main !== '') nameTokens.push(main);
  if (per !== '') nameTokens.push(per);
  if (kind === 'counter') nameTokens = [...nameTokens.filter((token) => token !== 'total'), 'total'];
  if (metric.unit === '1' && kind === 'gauge')
    nameTokens = [...nameTokens.filter((token) => token !== 'ratio'), 'ratio'];
  let name = nameTokens.join('_');
  if (/^[0-9]/.test(name)) name = `_${name}`;
  if (name === '' || /^_+$/.test(name))
    throw new Error(`normalization for metric "${metric.name}" resulted in an empty or invalid name "${name}"`);
  return name;
}

/**
 * Every series name Prometheus stores for the metric: the family name, or for a histogram its
 * `_bucket`, `_sum` and `_count`. None for `other`: the exporter has no conversion for exponential
 * histograms (collector.go convertMetric) and no service emits summaries.
 */
export function prometheusSeriesNames(metric: OtlpMetric): string[] {
  const name = prometheusMetricName(metric);
  if (metric.kind === 'histogram') return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
  if (metric.kind === 'other') return [];
  return [name];
}
