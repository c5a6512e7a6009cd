/**
 * Tests that stop a backend every other test shares (`*.exclusive.test.ts`, e.g. RabbitMQ's app
 * restarted under a publisher): `npm test` runs them one at a time after the main jest run.
 */
const base = require('./jest.config.cjs');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['**/test/**/*.exclusive.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  maxWorkers: 1,
};
