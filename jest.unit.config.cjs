/**
 * The fast lane (`npm run test:unit`): the tests that need no PostgreSQL, Redis, RabbitMQ or
 * sidecar, run in under a minute on a laptop. A test belongs here when it checks logic on its
 * own (schemas, the registry, routing, policies, parsers, in-memory stores, rendered chart);
 * anything that starts a database, a broker, a sidecar or an app stays out (the default:
 * `npm test` runs every test either way). Checked without network: `npm run test:unit` passes
 * in a network namespace where no backing service is reachable (docs/conventions.md).
 */
const base = require('./jest.config.cjs');

const UNIT_TESTS = [
  'packages/contracts/test/**/*.test.ts',
  'packages/deploy-checks/test/!(lockfile).test.ts',
  'packages/launcher/test/{compile,telemetry}.test.ts',
  'packages/load/test/{flags,http,scheduler,sse,stats}.test.ts',
  'packages/platform/test/{config,cursor,errors,operations,schedules,server,shutdown,subscriptions,telemetry-metrics,test-kit,trace-timeout}.test.ts',
  'packages/sidecar/test/resiliency-policy.test.ts',
  'services/evaluation/test/{scoring,leaderboard-store.memory}.test.ts',
  'services/gateway/test/{jwks,openapi,registry,response-cache,routes,tokens,trust-proxy}.test.ts',
  'services/quiz/test/view-cache.test.ts',
  'services/identity/test/signing-keys.test.ts',
];

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: UNIT_TESTS.map((glob) => `<rootDir>/${glob}`),
};
