/** Secrets (local file, env), secretKeyRef resolution, the SMTP mailbox binding and the cron input binding. */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningSidecar } from '../src';
import {
  eventually,
  raw,
  removeDir,
  resourcesDir,
  sdkClient,
  sdkError,
  startTestApp,
  startTestSidecar,
  tempDir,
  type TestApp,
} from './helpers';

const work = tempDir('secrets');
const secretsFile = join(work, 'secrets.json');
const multiFile = join(work, 'multi.json');
const mailbox = join(work, 'mailbox');
writeFileSync(
  secretsFile,
  JSON.stringify({ db: { user: 'quiz', password: 's3cret' }, jwt: 'signing-key', list: ['a', 'b'] }),
);
writeFileSync(multiFile, JSON.stringify({ redis: { host: 'localhost', password: 'pw' } }));

const RESOURCES = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: localsecrets}
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - {name: secretsFile, value: "${secretsFile}"}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: multisecrets}
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - {name: secretsFile, value: "${multiFile}"}
  - {name: multiValued, value: "true"}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: envsecrets}
spec: {type: secretstores.local.env, version: v1, metadata: [{name: prefix, value: QMTEST_}]}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: mail}
spec:
  type: bindings.smtp
  version: v1
  metadata:
  - {name: host, value: "127.0.0.1"}
  - {name: port, value: "1025"}
  - {name: mailboxPath, value: "${mailbox}"}
  - {name: emailFrom, value: "quizmesh@example.test"}
  - {name: subject, secretKeyRef: {name: "db:user"}}
auth: {secretStore: localsecrets}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ticker}
spec: {type: bindings.cron, version: v1, metadata: [{name: schedule, value: "@every 100ms"}]}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: otherapp-only}
spec: {type: bindings.cron, version: v1, metadata: [{name: schedule, value: "@every 1s"}]}
scopes: [someone-else]
`;

describe('secrets and bindings', () => {
  const registryDir = tempDir('reg');
  const resources = resourcesDir({ 'components.yaml': RESOURCES });
  let app: TestApp;
  let sidecar: RunningSidecar;

  beforeAll(async () => {
    app = await startTestApp((req, res) => {
      res.statusCode = req.url === '/ticker' ? 200 : 404;
      res.end();
    });
    sidecar = await startTestSidecar({
      appId: 'secrets-app',
      appPort: app.port,
      registryDir,
      resourcesPaths: [resources],
      env: { QMTEST_API_KEY: 'k-123' },
    });
    await sidecar.ready;
  });

  afterAll(async () => {
    await sidecar.close();
    await app.close();
    removeDir(registryDir);
    removeDir(resources);
    removeDir(work);
  });

  it('reads nested and array secrets from a local file with the ":" separator', async () => {
    const client = sdkClient(sidecar);
    expect(await client.secret.get('localsecrets', 'db:password')).toEqual({ 'db:password': 's3cret' });
    expect(await client.secret.get('localsecrets', 'list:1')).toEqual({ 'list:1': 'b' });
    expect(await client.secret.getBulk('localsecrets')).toEqual({
      'db:user': { 'db:user': 'quiz' },
      'db:password': { 'db:password': 's3cret' },
      jwt: { jwt: 'signing-key' },
      'list:0': { 'list:0': 'a' },
      'list:1': { 'list:1': 'b' },
    });
    expect(await client.secret.get('multisecrets', 'redis')).toEqual({ host: 'localhost', password: 'pw' });
    await client.stop();
  });

  it('reads environment secrets with a prefix; a missing variable is an empty value', async () => {
    const client = sdkClient(sidecar);
    expect(await client.secret.get('envsecrets', 'API_KEY')).toEqual({ API_KEY: 'k-123' });
    expect(await client.secret.get('envsecrets', 'NOT_SET')).toEqual({ NOT_SET: '' });
    expect(await client.secret.getBulk('envsecrets')).toEqual({ API_KEY: { API_KEY: 'k-123' } });
    await client.stop();
  });

  it('answers a missing secret with 500 ERR_SECRET_GET and an unknown store with 401 ERR_SECRET_STORE_NOT_FOUND', async () => {
    const missing = await raw(sidecar, '/v1.0/secrets/localsecrets/nope');
    expect(missing.status).toBe(500);
    expect(JSON.parse(missing.text)).toMatchObject({ errorCode: 'ERR_SECRET_GET' });
    expect(JSON.parse(missing.text).message).toContain('secret nope not found');
    const client = sdkClient(sidecar);
    const thrown = await client.secret.get('vault', 'x').then(
      () => undefined,
      (err: unknown) => err,
    );
    await client.stop();
    expect(sdkError(thrown)).toMatchObject({ status: 401, body: { errorCode: 'ERR_SECRET_STORE_NOT_FOUND' } });
  });

  it('delivers an SMTP binding message into the mailbox folder as an .eml file (secretKeyRef resolved)', async () => {
    const client = sdkClient(sidecar);
    await client.binding.send('mail', 'create', '<p>Welcome to Quizmesh</p>', {
      emailTo: 'ada@example.test;bob@example.test',
      priority: '1',
    });
    await client.stop();
    const files = readdirSync(mailbox).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(1);
    expect(readdirSync(mailbox).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const eml = readFileSync(join(mailbox, files[0] ?? ''), 'utf8');
    expect(eml).toContain('From: quizmesh@example.test');
    expect(eml).toContain('To: ada@example.test, bob@example.test');
    expect(eml).toContain('Subject: quiz');
    expect(eml).toContain('X-Priority: 1');
    expect(eml).toContain('<p>Welcome to Quizmesh</p>');
  });

  it('rejects binding calls that cannot be delivered', async () => {
    const noRecipient = await raw(sidecar, '/v1.0/bindings/mail', {
      method: 'POST',
      body: JSON.stringify({ operation: 'create', data: 'x' }),
    });
    expect(noRecipient.status).toBe(500);
    expect(JSON.parse(noRecipient.text)).toMatchObject({ errorCode: 'ERR_INVOKE_OUTPUT_BINDING' });
    expect(JSON.parse(noRecipient.text).message).toContain('emailTo');
    const wrongOp = await raw(sidecar, '/v1.0/bindings/mail', {
      method: 'POST',
      body: JSON.stringify({ operation: 'delete' }),
    });
    expect(wrongOp.status).toBe(500);
    const unknown = await raw(sidecar, '/v1.0/bindings/fax', {
      method: 'POST',
      body: JSON.stringify({ operation: 'create' }),
    });
    expect(JSON.parse(unknown.text)).toMatchObject({ errorCode: 'ERR_INVOKE_OUTPUT_BINDING' });
    const malformed = await raw(sidecar, '/v1.0/bindings/mail', { method: 'POST', body: 'not json' });
    expect(malformed.status).toBe(400);
  });

  it('triggers the app from the cron binding with POST /{binding} and the cron headers', async () => {
    await eventually(() => app.requests.filter((r) => r.method === 'POST' && r.url === '/ticker').length >= 2);
    const tick = app.requests.find((r) => r.method === 'POST' && r.url === '/ticker');
    expect(tick?.body).toBe('');
    expect(tick?.headers['content-type']).toBe('application/json');
    expect(Number.isNaN(Date.parse(String(tick?.headers.readtimeutc)))).toBe(false);
    expect(tick?.headers.timezone).toBeTruthy();
    expect(app.requests.some((r) => r.method === 'OPTIONS' && r.url === '/ticker')).toBe(true);
    expect(app.requests.some((r) => r.url === '/otherapp-only')).toBe(false);
  });

  it('lists only the components scoped to this app in /v1.0/metadata', async () => {
    const metadata = JSON.parse((await raw(sidecar, '/v1.0/metadata')).text) as { components: Array<{ name: string }> };
    expect(metadata.components.map((c) => c.name).sort()).toEqual([
      'envsecrets',
      'localsecrets',
      'mail',
      'multisecrets',
      'ticker',
    ]);
  });
});
