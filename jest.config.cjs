/** One jest run for the whole workspace; each package's tests live in its test/ folder. */
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  },
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testEnvironmentOptions: { customExportConditions: ['@quizmesh/source', 'node', 'require', 'default'] },
  transform: { '^.+\\.(t|j)s$': swc },
  // ESM-only packages (the operator's @kubernetes/client-node and what it imports) are compiled to
  // CommonJS like our sources: jest on Node 20 cannot require ES modules.
  transformIgnorePatterns: ['/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose)/)'],
  roots: ['<rootDir>/packages', '<rootDir>/services'],
  testMatch: ['**/test/**/*.test.ts'],
  // `*.exclusive.test.ts` stop a backend every test shares (RabbitMQ's app): they run alone, after
  // this run (jest.exclusive.config.cjs), so they never pull the broker from under other suites.
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '\\.exclusive\\.test\\.ts$'],
  moduleFileExtensions: ['ts', 'js', 'cjs', 'mjs', 'json'],
  testTimeout: 60_000,
  // Integration suites start real processes and databases: keep the machine's two cores usable.
  maxWorkers: process.env.CI ? 2 : '50%',
  verbose: false,
};
