/** The public API document: valid OpenAPI 3.1, covering every route the gateway forwards, served with a docs page. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { identityOperations } from '@quizmesh/contracts/identity-api';
import { buildOpenApiDocument, type OpenApiDocument } from '../src/openapi/document';
import { loadContract, publicApiDocument, ROUTED_APPS } from '../src/openapi/public-api';
import { DEAD_LETTER_APPS, DEAD_LETTERS_PATH, EXACT_ROUTES, PREFIX_ROUTES, resolveRoute } from '../src/routes';
import { echo, startHarness, type Harness } from './support/harness';

const run = promisify(execFile);
let document: OpenApiDocument;
beforeAll(async () => {
  document = await publicApiDocument('test');
});

/** Validates with @seriousme/openapi-schema-validator (an ES module: run in its own node process). */
async function validate(doc: unknown): Promise<{ valid: boolean; errors?: unknown }> {
  const dir = mkdtempSync(join(tmpdir(), 'qm-openapi-'));
  try {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    const cli = require.resolve('@seriousme/openapi-schema-validator/bin/validate-api-cli.js');
    const { stdout } = await run(process.execPath, [cli, file]).catch((err: { stdout: string }) => ({
      stdout: err.stdout,
    }));
    return JSON.parse(stdout) as { valid: boolean; errors?: unknown };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const templated = (path: string) => path.replace(/:(\w+)/g, '{$1}');
const documentedOperations = (doc: OpenApiDocument) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => ({ method: method.toUpperCase(), path })),
  );

describe('OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    expect(document.openapi).toMatch(/^3\.1\./);
    await expect(validate(document)).resolves.toEqual(expect.objectContaining({ valid: true }));
  });

  it('is refused by the validator when broken (the check can fail)', async () => {
    const broken = { ...document, paths: { '/x': { get: { responses: { 200: { content: 'nope' } } } } } };
    await expect(validate(broken)).resolves.toEqual(expect.objectContaining({ valid: false }));
  });

  it('documents every route of the table, or lists it under its service awaiting a contract', () => {
    const operations = documentedOperations(document);
    const pendingTags = new Map(
      document.tags
        .filter((t) => Array.isArray(t['x-quizmesh-routed-prefixes']))
        .map((t) => [t.name, t['x-quizmesh-routed-prefixes'] as string[]]),
    );
    for (const route of EXACT_ROUTES) {
      const pending = pendingTags.get(route.appId);
      if (pending) expect(pending).toContain(`${route.method} ${route.path}`);
      else expect(operations).toContainEqual({ method: route.method, path: templated(route.path) });
    }
    for (const route of PREFIX_ROUTES) {
      const pending = pendingTags.get(route.appId);
      if (pending) expect(pending).toContain(route.prefix);
      else
        expect(operations.some((op) => op.path === route.prefix || op.path.startsWith(`${route.prefix}/`))).toBe(true);
    }
  });

  it('documents every service that has published its contract, and lists only the others as pending', async () => {
    const contractsDir = resolve(__dirname, '../../../packages/contracts/src');
    const pending = document.tags.filter((t) => 'x-quizmesh-routed-prefixes' in t).map((t) => t.name);
    for (const appId of ROUTED_APPS) {
      const published = existsSync(join(contractsDir, `${appId}-api.ts`));
      expect([appId, pending.includes(appId)]).toEqual([appId, !published]);
      expect([appId, (await loadContract(appId)) !== undefined]).toEqual([appId, published]);
    }
    expect(pending).not.toContain('identity');
  });

  it('documents only paths the gateway routes, with the access the route table enforces', () => {
    for (const { method, path } of documentedOperations(document)) {
      if (
        path === '/api/v1/status' ||
        path === '/api/v1/stream' ||
        path.startsWith('/api/v1/session/') ||
        path.startsWith('/api/v1/openapi') ||
        path.startsWith('/api/v1/docs')
      )
        continue;
      const concrete = path.replace(/\{\w+\}/g, '3f1e0c9a-8b7d-4e6f-a5b4-c3d2e1f0a9b8');
      const route = resolveRoute(method, concrete);
      const op = document.paths[path]?.[method.toLowerCase()] as {
        tags: string[];
        security?: unknown[];
        'x-required-roles'?: string[];
      };
      expect([method, path, route?.appId]).toEqual([method, path, op.tags[0]]);
      const documentedPublic = Array.isArray(op.security) && op.security.length === 0;
      expect([method, path, route?.access.kind === 'public']).toEqual([method, path, documentedPublic]);
      if (op['x-required-roles']) expect(route?.access).toEqual({ kind: 'role', roles: op['x-required-roles'] });
    }
  });

  it('documents the dead-letter admin API of every app the gateway routes it to, with that app’s topics', async () => {
    for (const appId of DEAD_LETTER_APPS) {
      const base = `${DEAD_LETTERS_PATH}/${appId}`;
      const topics = (await import(`@quizmesh/contracts/${appId}-api`))[`${appId}DeadLetterTopics`] as string[];
      expect([appId, topics.length > 0]).toEqual([appId, true]);
      const list = document.paths[base]?.get as {
        tags: string[];
        'x-required-roles'?: string[];
        parameters: Array<{ name: string; schema: { enum?: string[] } }>;
      };
      expect(list.tags).toEqual([appId]);
      expect(list['x-required-roles']).toEqual(['admin']);
      expect(list.parameters.find((p) => p.name === 'topic')?.schema.enum).toEqual(topics);
      expect(Object.keys(document.paths[`${base}/replay`] ?? {})).toEqual(['post']);
      expect(Object.keys(document.paths[`${base}/{id}/replay`] ?? {})).toEqual(['post']);
      expect(Object.keys(document.paths[`${base}/{id}`] ?? {})).toEqual(['delete']);
    }
    // and nothing for an app the gateway does not route dead letters to
    expect(Object.keys(document.paths).filter((p) => p.startsWith(`${DEAD_LETTERS_PATH}/gateway`))).toEqual([]);
  });

  it('documents the live stream as text/event-stream with its events from the event contracts', () => {
    const stream = document.paths['/api/v1/stream']?.get as {
      tags: string[];
      parameters: Array<{ name: string; in: string; required: boolean }>;
      responses: Record<string, { content?: Record<string, { schema: unknown }>; $ref?: string }>;
    };
    expect(stream.tags).toEqual(['gateway']);
    expect(stream.parameters).toEqual([
      expect.objectContaining({ name: 'access_token', in: 'query', required: false }),
    ]);
    expect(stream.responses['200']?.content).toEqual({
      'text/event-stream': { schema: { $ref: '#/components/schemas/StreamEvent' } },
    });
    for (const status of ['401', '429', '503']) expect(stream.responses[status]).toBeDefined();
    const events = JSON.stringify(document.components.schemas.StreamEvent);
    for (const ref of ['LeaderboardUpdatedV1', 'NotificationCreatedV1'])
      expect(events).toContain(`#/components/schemas/${ref}`);
  });

  it('takes request and response schemas from the identity contract', () => {
    const login = document.paths['/api/v1/auth/login']?.post as {
      requestBody: { content: Record<string, { schema: unknown }> };
      responses: Record<string, unknown>;
    };
    expect(login.requestBody.content['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/LoginRequest',
    });
    const loginRequest = z.toJSONSchema(identityOperations.find((o) => o.operationId === 'login')?.body ?? z.never(), {
      io: 'input',
      target: 'draft-2020-12',
    }) as {
      $defs: Record<string, unknown>;
    };
    expect(document.components.schemas.LoginRequest).toEqual(loginRequest.$defs.LoginRequest);
    expect(login.responses['200']).toEqual({
      description: 'OK',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/TokenResponse' } } },
    });
    expect(login.responses['429']).toEqual({ $ref: '#/components/responses/Problem429' });
    const listUsers = document.paths['/api/v1/admin/users']?.get as { parameters: Array<{ name: string; in: string }> };
    expect(listUsers.parameters.map((p) => [p.name, p.in])).toEqual([
      ['limit', 'query'],
      ['cursor', 'query'],
    ]);
  });

  it('treats a service without a contract module as pending', async () => {
    await expect(loadContract('no-such-service')).resolves.toBeUndefined();
  });

  it('documents the seed paths as deprecated aliases', () => {
    const seedLogin = document.paths['/api/users/login']?.post as { deprecated?: boolean; operationId: string };
    expect(seedLogin).toMatchObject({ deprecated: true, operationId: 'loginSeed' });
  });

  it('keeps input and output renderings of one schema apart when they differ', () => {
    const withDefault = z.object({ limit: z.number().default(20) }).meta({ id: 'Paging' });
    const doc = buildOpenApiDocument({
      version: '1',
      problem: z.object({ type: z.string() }).meta({ id: 'Problem' }),
      gateway: {
        tag: 'gateway',
        description: 'test',
        operations: [
          {
            operationId: 'a',
            method: 'post',
            path: '/a',
            summary: 'a',
            access: 'public',
            body: withDefault,
            response: { status: 200, schema: withDefault },
            errors: [],
          },
        ],
      },
      services: [],
      pending: [],
    });
    expect(Object.keys(doc.components.schemas).sort()).toEqual(['Paging', 'PagingInput', 'Problem']);
    const op = doc.paths['/a']?.post as {
      requestBody: { content: Record<string, { schema: unknown }> };
      responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
    };
    expect(op.requestBody.content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/PagingInput' });
    expect(op.responses['200']?.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Paging' });
    // As input the defaulted field is optional; as output it is always there.
    expect(doc.components.schemas.PagingInput).not.toHaveProperty('required');
    expect(doc.components.schemas.Paging).toHaveProperty('required', ['limit']);
  });
});

describe('OpenAPI endpoints', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ apps: { quiz: echo } });
  });
  afterAll(() => h.close());

  it('serves the document at /api/v1/openapi.json without a token', async () => {
    const res = await fetch(`${h.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const served = (await res.json()) as OpenApiDocument;
    expect(served).toEqual(JSON.parse(JSON.stringify(await publicApiDocument(served.info.version))));
  });

  it('serves a self-contained docs page with its assets from the gateway itself', async () => {
    const page = await fetch(`${h.url}/api/v1/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets).toEqual([
      '/api/v1/docs/swagger-ui.css',
      '/api/v1/docs/swagger-ui-bundle.js',
      '/api/v1/docs/init.js',
    ]);
    for (const asset of assets) {
      const res = await fetch(`${h.url}${asset}`);
      expect([asset, res.status]).toEqual([asset, 200]);
      expect(res.headers.get('content-type')).toMatch(asset.endsWith('.css') ? /^text\/css/ : /javascript/);
    }
    expect(await (await fetch(`${h.url}/api/v1/docs/init.js`)).text()).toContain('"/api/v1/openapi.json"');
  });
});
