/** The public API document: valid OpenAPI 3.1, covering every route the gateway forwards (served: openapi-endpoints.test.ts). */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { identityOperations } from '@quizmesh/contracts/identity-api';
import { quizApp } from '@quizmesh/contracts/registry';
import { SYSTEM, deadLetterAdminApps, systemOperations } from '@quizmesh/contracts/system';
import { DEAD_LETTERS_PATH } from '@quizmesh/platform/deadletters';
import { buildOpenApiDocument, type OpenApiDocument } from '../src/openapi/document';
import { publicApiDocument } from '../src/openapi/public-api';
import { resolveRoute } from '../src/routes';

const run = promisify(execFile);
let document: OpenApiDocument;
beforeAll(() => {
  document = publicApiDocument('test');
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

  it('documents every operation of the registry, seed aliases included, under its app', () => {
    const operations = documentedOperations(document);
    for (const op of systemOperations()) {
      expect(operations).toContainEqual({ method: op.method.toUpperCase(), path: op.path });
      const documented = document.paths[op.path]?.[op.method] as { tags: string[]; operationId: string };
      expect([op.operationId, documented.tags]).toEqual([op.operationId, [op.appId]]);
    }
  });

  it('has one tag per app with public operations, described as the registry says', () => {
    const apps = SYSTEM.filter((app) => app.operations.length > 0 || app.deadLetters === 'admin-api');
    expect(document.tags.map((t) => t.name)).toEqual(['gateway', ...apps.map((a) => a.appId)]);
    for (const app of apps) expect(document.tags.find((t) => t.name === app.appId)?.description).toBe(app.description);
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
      expect([method, path, route?.access === 'public']).toEqual([method, path, documentedPublic]);
      expect([method, path, route?.access === 'admin']).toEqual([
        method,
        path,
        op['x-required-roles']?.[0] === 'admin',
      ]);
    }
  });

  it('documents the dead-letter admin API of every app the gateway routes it to, with that app’s topics', () => {
    const apps = deadLetterAdminApps();
    expect(apps.map((a) => a.appId)).toEqual(['identity', 'quiz', 'evaluation', 'notification']);
    for (const { appId, topics } of apps) {
      const base = `${DEAD_LETTERS_PATH}/${appId}`;
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

  it("documents getQuiz's conditional GET: ETag and Cache-Control on the 200, If-None-Match, a 304 without a body", () => {
    const getQuiz = document.paths['/api/v1/quizzes/{id}']?.get as {
      parameters: Array<{ name: string; in: string; required: boolean }>;
      responses: Record<string, { headers?: Record<string, unknown>; content?: unknown }>;
    };
    expect(getQuiz.parameters.map((p) => [p.name, p.in, p.required])).toEqual([
      ['id', 'path', true],
      ['If-None-Match', 'header', false],
    ]);
    expect(getQuiz.responses['200']?.headers).toEqual({
      ETag: { $ref: '#/components/headers/ETag' },
      'Cache-Control': { $ref: '#/components/headers/CacheControlNoCache' },
    });
    expect(getQuiz.responses['304']).toEqual({
      description: expect.stringMatching(/If-None-Match/),
      headers: { ETag: { $ref: '#/components/headers/ETag' } },
    });
    expect(Object.keys(document.components.headers)).toEqual(expect.arrayContaining(['ETag', 'CacheControlNoCache']));
    // Only operations that answer 304 say so.
    const listQuizzes = document.paths['/api/v1/quizzes']?.get as { responses: Record<string, unknown> };
    expect(listQuizzes.responses['304']).toBeUndefined();
  });

  it('documents per app its operations, each seed alias as a deprecated copy, and its five dead-letter admin operations (list, replay, replay all as a job, the job, discard)', () => {
    // (the gateway's tag holds its own endpoints, which are not in the registry)
    for (const app of SYSTEM.filter((a) => a.appId !== 'gateway')) {
      const tagged = documentedOperations(document).filter(
        ({ method, path }) =>
          (document.paths[path]?.[method.toLowerCase()] as { tags: string[] }).tags[0] === app.appId,
      );
      const deadLetterAdmin = tagged.filter((op) => op.path.startsWith(`${DEAD_LETTERS_PATH}/${app.appId}`));
      expect([app.appId, deadLetterAdmin.length]).toEqual([app.appId, app.deadLetters === 'admin-api' ? 5 : 0]);
      expect([app.appId, tagged.length]).toEqual([
        app.appId,
        app.operations.length + Object.keys(app.seedAliases).length + deadLetterAdmin.length,
      ]);
    }
    const quizDeprecated = documentedOperations(document).filter(
      ({ method, path }) =>
        (document.paths[path]?.[method.toLowerCase()] as { tags: string[]; deprecated?: boolean }).tags[0] === 'quiz' &&
        (document.paths[path]?.[method.toLowerCase()] as { deprecated?: boolean }).deprecated === true,
    );
    expect(quizDeprecated.map(({ method, path }) => `${method} ${path}`).sort()).toEqual(
      Object.keys(quizApp.seedAliases).sort(),
    );
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
