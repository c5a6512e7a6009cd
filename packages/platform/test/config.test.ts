import { z } from 'zod';
import {
  componentNameConfig,
  ConfigError,
  loadConfig,
  pubsubNameConfig,
  redisUrlConfig,
  serviceConfig,
  stateStoreNameConfig,
} from '../src/config';

const schema = serviceConfig({ DATABASE_URL: z.url() }, { PORT: 3001 });

describe('loadConfig', () => {
  it('applies defaults and coerces numbers', () => {
    const config = loadConfig(schema, { DATABASE_URL: 'postgresql://localhost/db', DAPR_HTTP_PORT: '3600' });
    expect(config).toMatchObject({ PORT: 3001, DAPR_HTTP_PORT: 3600, LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: 10_000 });
  });

  it('names a missing required variable', () => {
    expect(() => loadConfig(schema, {})).toThrow(
      new ConfigError([{ variable: 'DATABASE_URL', message: 'is required' }]),
    );
  });

  it('names every bad variable with the reason', () => {
    let error: unknown;
    try {
      loadConfig(schema, { DATABASE_URL: 'not a url', PORT: '70000', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { issues, message } = error as ConfigError;
    expect(issues.map((i) => i.variable).sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'PORT']);
    expect(message).toMatch(/^invalid configuration: /);
    expect(message).toContain('PORT:');
  });

  it('treats empty strings as unset so defaults apply', () => {
    expect(loadConfig(schema, { DATABASE_URL: 'postgresql://h/d', LOG_LEVEL: '' }).LOG_LEVEL).toBe('info');
  });

  it('rejects a malformed body limit', () => {
    expect(() => loadConfig(schema, { DATABASE_URL: 'postgresql://h/d', JSON_BODY_LIMIT: 'lots' })).toThrow(
      /JSON_BODY_LIMIT: expected a size/,
    );
  });
});

describe('loadConfigOrExit (as a process)', () => {
  it('prints one line naming the variable and exits 1', async () => {
    const { spawnSync } = await import('node:child_process');
    const script = `
      const { z } = require('zod');
      const { loadConfigOrExit, serviceConfig } = require('@quizmesh/platform');
      loadConfigOrExit('demo', serviceConfig({ DATABASE_URL: z.url() }, { PORT: 1 }), { PORT: 'abc' });
    `;
    const result = spawnSync(process.execPath, ['--conditions=@quizmesh/source', '--import', 'tsx', '-e', script], {
      encoding: 'utf8',
      cwd: __dirname,
    });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^demo: invalid configuration: .*PORT: .*DATABASE_URL: is required/);
  });
});

describe('the shared variables (one validation wherever a service reads them)', () => {
  const shared = serviceConfig(
    {
      PUBSUB_NAME: pubsubNameConfig(),
      STATE_STORE_NAME: stateStoreNameConfig(),
      BROADCAST_PUBSUB_NAME: componentNameConfig('pubsub'),
      REDIS_URL: redisUrlConfig(),
    },
    { PORT: 3001 },
  );

  it('defaults the component names and leaves Redis unset', () => {
    const config = loadConfig(shared, {});
    expect(config).toMatchObject({
      PUBSUB_NAME: 'pubsub',
      STATE_STORE_NAME: 'statestore',
      BROADCAST_PUBSUB_NAME: 'pubsub',
    });
    expect(config.REDIS_URL).toBeUndefined();
  });

  it('accepts Dapr component names and redis:// or rediss:// URLs', () => {
    const config = loadConfig(shared, {
      PUBSUB_NAME: 'pubsub-broadcast',
      STATE_STORE_NAME: 'state.v2',
      REDIS_URL: 'rediss://cache.internal:6380/0',
    });
    expect(config).toMatchObject({ PUBSUB_NAME: 'pubsub-broadcast', STATE_STORE_NAME: 'state.v2' });
  });

  it.each([
    ['PUBSUB_NAME', 'PubSub'],
    ['PUBSUB_NAME', 'pubsub-'],
    ['STATE_STORE_NAME', 'state store'],
    ['BROADCAST_PUBSUB_NAME', '../pubsub'],
    ['REDIS_URL', 'http://cache:6379'],
    ['REDIS_URL', 'redis://'],
  ])('refuses %s=%p, naming the variable', (variable, value) => {
    expect(() => loadConfig(shared, { [variable]: value })).toThrow(
      expect.objectContaining({ issues: [expect.objectContaining({ variable })] }),
    );
  });
});
