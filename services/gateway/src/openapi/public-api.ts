/**
 * What the public API document contains: the gateway's own endpoints, every routed service
 * whose contract is published (`@quizmesh/contracts/<app>-api`, exporting `<app>Operations`,
 * optionally `<app>SeedAliases`, and `<app>DeadLetterTopics` for its dead-letter admin API),
 * and the routed services still waiting for theirs.
 * Served at /api/v1/openapi.json, with a browsable page at /api/v1/docs (Swagger UI from the
 * swagger-ui-dist package: no CDN).
 */
import { dirname, join } from 'node:path';
import type { Express } from 'express';
import { z } from 'zod';
import { loginRequestSchema, problemSchema, registerRequestSchema } from '@quizmesh/contracts/identity-api';
import { deadLetterOperations } from '@quizmesh/platform/deadletters';
import { leaderboardUpdated, notificationCreated } from '@quizmesh/contracts/events';
import { EXACT_ROUTES, PREFIX_ROUTES } from '../routes';
import { gatewayStatusSchema } from '../status';
import { ACCESS_TOKEN_PARAM, STREAM_PATH } from '../stream/route';
import { browserSessionSchema, SESSION_DESCRIPTION, SESSION_PATH } from '../web/session';
import {
  buildOpenApiDocument,
  type ApiOperation,
  type ApiSection,
  type HttpMethod,
  type OpenApiDocument,
} from './document';

export const OPENAPI_PATH = '/api/v1/openapi.json';
export const DOCS_PATH = '/api/v1/docs';

/** What an EventSource delivers, one event at a time (OpenAPI 3.1 has no per-event schema for text/event-stream). */
const streamEventSchema = z
  .discriminatedUnion('event', [
    z.object({
      event: z.literal('ready'),
      data: z.object({
        replay: z.literal(false),
        resumedAfter: z.string().nullable().meta({ description: 'the Last-Event-ID the client sent' }),
      }),
    }),
    z.object({ event: z.literal('leaderboard'), id: z.string(), data: leaderboardUpdated.schema }),
    z.object({ event: z.literal('notification'), id: z.string(), data: notificationCreated.schema }),
    z.object({ event: z.literal('token-expired'), data: z.object({}) }),
  ])
  .meta({
    id: 'StreamEvent',
    description:
      'One Server-Sent Event as EventSource delivers it: `event` is the event name, `id` the SSE id (the CloudEvent id), `data` the JSON in the `data:` line.',
  });

const STREAM_DESCRIPTION = `Server-Sent Events (\`text/event-stream\`). Events:

- \`ready\` first, after a \`retry:\` hint. There is no replay: on every \`ready\` (also after a reconnect with \`Last-Event-ID\`) re-fetch what you show.
- \`leaderboard\`: a leaderboard changed (every stream).
- \`notification\`: a new notification for the signed-in user (that user's streams only).
- \`token-expired\`: the access token ran out; the stream ends. Open a new one with a fresh token.

Comment lines (\`: heartbeat\`) keep idle connections open. EventSource cannot send headers, so the access token may come as \`?${ACCESS_TOKEN_PARAM}=\` instead of \`Authorization\` (never both); the gateway removes it from the URL before logging. Streams per user and per gateway replica are capped (429, 503).`;

const gatewaySection: ApiSection = {
  tag: 'gateway',
  description: 'The gateway itself: status of the services behind it, the live stream, and this document.',
  operations: [
    {
      operationId: 'openStream',
      method: 'get',
      path: STREAM_PATH,
      summary: 'Live stream of leaderboard changes and your notifications (Server-Sent Events)',
      description: STREAM_DESCRIPTION,
      access: 'user',
      query: z.object({
        [ACCESS_TOKEN_PARAM]: z
          .string()
          .optional()
          .meta({ description: 'the access token, for clients that cannot send Authorization (EventSource)' }),
      }),
      response: { status: 200, schema: streamEventSchema, contentType: 'text/event-stream' },
      errors: [503],
    },
    {
      operationId: 'getStatus',
      method: 'get',
      path: '/api/v1/status',
      summary: 'Readiness of every service behind the gateway',
      access: 'public',
      response: { status: 200, schema: gatewayStatusSchema },
      errors: [],
    },
    {
      operationId: 'browserLogin',
      method: 'post',
      path: `${SESSION_PATH}/login`,
      summary: 'Sign a browser in (refresh token in an httpOnly cookie)',
      description: SESSION_DESCRIPTION,
      access: 'public',
      body: loginRequestSchema,
      response: { status: 200, schema: browserSessionSchema },
      errors: [401, 403, 429],
    },
    {
      operationId: 'browserRegister',
      method: 'post',
      path: `${SESSION_PATH}/register`,
      summary: 'Create an account and sign the browser in',
      description: SESSION_DESCRIPTION,
      access: 'public',
      body: registerRequestSchema,
      response: { status: 201, schema: browserSessionSchema },
      errors: [403, 409, 429],
    },
    {
      operationId: 'browserRefresh',
      method: 'post',
      path: `${SESSION_PATH}/refresh`,
      summary: "Rotate the browser's refresh cookie for a new access token (CSRF token required)",
      description: SESSION_DESCRIPTION,
      access: 'public',
      response: { status: 200, schema: browserSessionSchema },
      errors: [401, 403],
    },
    {
      operationId: 'browserLogout',
      method: 'post',
      path: `${SESSION_PATH}/logout`,
      summary: 'Sign the browser out and clear its cookies (CSRF token required)',
      description: SESSION_DESCRIPTION,
      access: 'public',
      response: { status: 204 },
      errors: [403],
    },
    {
      operationId: 'getOpenApiDocument',
      method: 'get',
      path: OPENAPI_PATH,
      summary: 'This OpenAPI 3.1 document',
      access: 'public',
      response: { status: 200, schema: z.record(z.string(), z.unknown()) },
      errors: [],
    },
    {
      operationId: 'getApiDocs',
      method: 'get',
      path: DOCS_PATH,
      summary: 'Browsable API documentation (HTML)',
      access: 'public',
      response: { status: 200, schema: z.string(), contentType: 'text/html' },
      errors: [],
    },
  ],
};

const SERVICE_DESCRIPTIONS: Record<string, string> = {
  identity: 'Accounts, sign-in, tokens and roles.',
  quiz: 'Quizzes (drafts, publishing, versions) and attempts.',
  evaluation: 'Scores, results, leaderboards and player statistics.',
  notification: 'The signed-in user’s inbox.',
};

const zodSchema = z.instanceof(z.ZodType);
/** The operation shape every contract module exports (checked: a contract is code of another team). */
const contractSchema = z.object({
  operations: z.array(
    z.object({
      operationId: z.string().min(1),
      method: z.enum(['get', 'post', 'put', 'patch', 'delete']),
      path: z.string().startsWith('/'),
      summary: z.string(),
      access: z.enum(['public', 'user', 'admin']),
      params: zodSchema.optional(),
      query: zodSchema.optional(),
      body: zodSchema.optional(),
      response: z.object({ status: z.number().int(), schema: zodSchema.optional() }),
      errors: z.array(z.number().int()),
      deprecated: z.boolean().optional(),
      description: z.string().optional(),
    }),
  ),
  seedAliases: z.record(z.string(), z.string()).default({}),
  deadLetterTopics: z.tuple([z.string().min(1)], z.string().min(1)).optional(),
});

export interface ServiceContract {
  appId: string;
  operations: ApiOperation[];
}

function isMissingModule(err: unknown, specifier: string): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return (
    code === 'MODULE_NOT_FOUND' &&
    typeof message === 'string' &&
    message.includes(specifier.split('/').at(-1) ?? specifier)
  );
}

/** `@quizmesh/contracts/<appId>-api`, or undefined while that service has not published one. A broken contract fails the start. */
export async function loadContract(appId: string): Promise<ServiceContract | undefined> {
  const specifier = `@quizmesh/contracts/${appId}-api`;
  let exports: Record<string, unknown>;
  try {
    exports = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    if (isMissingModule(err, specifier)) return undefined;
    throw err;
  }
  const camel = appId.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());
  const parsed = contractSchema.safeParse({
    operations: exports[`${camel}Operations`],
    seedAliases: exports[`${camel}SeedAliases`],
    deadLetterTopics: exports[`${camel}DeadLetterTopics`],
  });
  if (!parsed.success) {
    throw new Error(
      `${specifier}: not a contract (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`,
    );
  }
  const { operations, seedAliases, deadLetterTopics } = parsed.data;
  return {
    appId,
    operations: [
      ...operations,
      ...seedAliasOperations(operations, seedAliases),
      // The platform's dead-letter admin API, as the gateway publishes it for this app.
      ...(deadLetterTopics ? deadLetterOperations(appId, deadLetterTopics) : []),
    ],
  };
}

/** The seed design's paths as deprecated copies of the operations they alias. */
function seedAliasOperations(operations: readonly ApiOperation[], aliases: Record<string, string>): ApiOperation[] {
  return Object.entries(aliases).map(([alias, target]) => {
    const [method = '', path = ''] = alias.split(' ');
    const original = operations.find((op) => `${op.method.toUpperCase()} ${op.path}` === target);
    if (!original) throw new Error(`OpenAPI: seed alias ${alias} points at ${target}, which is not documented`);
    return {
      ...original,
      operationId: `${original.operationId}Seed`,
      method: method.toLowerCase() as HttpMethod,
      path,
      deprecated: true,
      description: `Seed-compatible alias of \`${target}\`; new clients should use that.`,
    };
  });
}

/** Every app id the route table sends requests to. */
export const ROUTED_APPS = [...new Set([...PREFIX_ROUTES, ...EXACT_ROUTES].map((r) => r.appId))];

export function routedPaths(appId: string): string[] {
  return [
    ...PREFIX_ROUTES.filter((r) => r.appId === appId).map((r) => r.prefix),
    ...EXACT_ROUTES.filter((r) => r.appId === appId).map((r) => `${r.method} ${r.path}`),
  ];
}

/** The document for the contracts present (services without one are listed with their routed paths). */
export async function publicApiDocument(version: string): Promise<OpenApiDocument> {
  const contracts = await Promise.all(
    ROUTED_APPS.map(async (appId) => ({ appId, contract: await loadContract(appId) })),
  );
  return buildOpenApiDocument({
    version,
    problem: problemSchema,
    gateway: gatewaySection,
    services: contracts.flatMap(({ appId, contract }) =>
      contract
        ? [{ tag: appId, description: SERVICE_DESCRIPTIONS[appId] ?? appId, operations: contract.operations }]
        : [],
    ),
    pending: contracts.filter((c) => !c.contract).map(({ appId }) => ({ tag: appId, prefixes: routedPaths(appId) })),
  });
}

const SWAGGER_UI_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));
const SWAGGER_UI_ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js'] as const;

// Scripts are files, not inline, so the page works under helmet's Content-Security-Policy (script-src 'self').
const DOCS_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Quizmesh API</title>
    <link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
    <script src="${DOCS_PATH}/init.js"></script>
  </body>
</html>
`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: ${JSON.stringify(OPENAPI_PATH)}, dom_id: '#swagger-ui', deepLinking: true });\n`;

/** GET /api/v1/openapi.json and the docs page with its assets. */
export function mountApiDocs(app: Express, document: OpenApiDocument): void {
  const json = JSON.stringify(document);
  app.get(OPENAPI_PATH, (_req, res) => {
    res.type('application/json').send(json);
  });
  app.get(DOCS_PATH, (_req, res) => {
    res.type('html').send(DOCS_PAGE);
  });
  app.get(`${DOCS_PATH}/init.js`, (_req, res) => {
    res.type('application/javascript').send(DOCS_INIT);
  });
  for (const asset of SWAGGER_UI_ASSETS) {
    app.get(`${DOCS_PATH}/${asset}`, (_req, res) => {
      res.sendFile(join(SWAGGER_UI_DIR, asset), { maxAge: '1d' });
    });
  }
}
