export { ensureTools, toolsCacheDir, type Tools } from './tools';
export { renderChart, lintChart, HelmError, CHART_DIR, REPO_ROOT, type RenderOptions } from './helm';
export { parseManifests, objectId, type KubeObject } from './objects';
export { validateKubernetesObject, isKubernetesBuiltIn, modelFor } from './kubernetes-schema';
export { validateDaprResource, isDaprResource, SCHEMAS_DIR } from './dapr-schema';
export { checkPolicies, formatViolation, type Violation } from './policies';
export { computeFootprint, footprintTable, parseCpu, parseMemory, type Footprint } from './footprint';
export { findYamlFiles, loadObjects } from './yaml-files';
export { findSecretValues } from './values-secrets';
export { createAjv, strictStructuralSchema, validateWith } from './json-schema';
export { chartDaprResourcesForLocalRun, type LocalRun, type LocalDaprResources } from './local-dapr-resources';
export { chartRegistryMismatches } from './registry';
export { prometheusMetricName, prometheusSeriesNames, type OtlpMetric, type OtlpMetricKind } from './prometheus-names';
export { DAPRD_METRICS, DAPRD_VERSION, daprdSeriesNames, type DaprdMetric } from './daprd-metrics';
export {
  dashboardMetricsNotProduced,
  dashboardQueries,
  formatMissingMetric,
  metricNamesInPromQL,
  renderedDashboards,
  type MissingMetric,
} from './dashboard-metrics';
