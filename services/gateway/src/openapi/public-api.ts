/**
 * What the public API document contains: the gateway's own endpoints, then every app of the
 * system registry (@quizmesh/contracts/registry) with its operations, seed aliases and
 * dead-letter admin API: the same list the route table is built from.
 * Served at /api/v1/openapi.json, with a browsable page at /api/v1/docs (Swagger UI from the
 * swagger-ui-dist package: no CDN).
 */
import { dirname, join } from 'node:path';
import type { Express } from 'express';
import { z } from 'zod';
import { loginRequestSchema, problemSchema, registerRequestSchema } from '@quizmesh/contracts/identity-api';
import { deadLetterOperations } from '@quizmesh/platform/deadletters';
import { leaderboardUpdatedV1, notificationCreated } from '@quizmesh/contracts/events';
import { SYSTEM, deadLetterAdminApps, routedOperations, type AppRegistration } from '@quizmesh/contracts/system';
import { gatewayStatusSchema } from '../status';
import { ACCESS_TOKEN_PARAM, STREAM_PATH } from '../stream/route';
import { browserSessionSchema, SESSION_DESCRIPTION, SESSION_PATH } from '../web/session';
import { buildOpenApiDocument, type ApiSection, type OpenApiDocument } from './document';

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
    z.object({ event: z.literal('leaderboard'), id: z.string(), data: leaderboardUpdatedV1.schema }),
    z.object({ event: z.literal('notification'), id: z.string(), data: notificationCreated.schema }),
    z.object({ event: z.literal('token-expired'), data: z.object({}) }),
  ])
  .meta({
    id: 'StreamEvent',
    description:
      'One Server-Sent Event as EventSource delivers it: `event` is the event name, `id` the SSE id (the CloudEvent id; for `leaderboard` followed by `/` and the board: `global`, `quiz:<quizId>` or `weekly:<period>`), `data` the JSON in the `data:` line.',
  });

const STREAM_DESCRIPTION = `Server-Sent Events (\`text/event-stream\`). Events:

- \`ready\` first, after a \`retry:\` hint. There is no replay: on every \`ready\` (also after a reconnect with \`Last-Event-ID\`) re-fetch what you show.
- \`leaderboard\`: a leaderboard changed (every stream).
- \`notification\`: a new notification for the signed-in user (that user's streams only).
- \`token-expired\`: the access token ran out; the stream ends. Open a new one with a fresh token.

Without a token (neither \`Authorization\` nor \`?${ACCESS_TOKEN_PARAM}=\`) the stream is a visitor's: \`leaderboard\` events only, never \`token-expired\`. A token that is sent must be valid (401 otherwise).

Comment lines (\`: heartbeat\`) keep idle connections open. EventSource cannot send headers, so the access token may come as \`?${ACCESS_TOKEN_PARAM}=\` instead of \`Authorization\` (never both); the gateway removes it from the URL before logging. Streams per user, per client address and per gateway replica are capped (429, 503).`;

type GatewayOperation = ApiSection['operations'][number];

/** A browser-session endpoint: a public POST under SESSION_PATH, described once. */
function sessionOperation(
  operationId: string,
  action: string,
  operation: Omit<GatewayOperation, 'operationId' | 'method' | 'path' | 'description' | 'access'>,
): GatewayOperation {
  return {
    operationId,
    method: 'post',
    path: `${SESSION_PATH}/${action}`,
    description: SESSION_DESCRIPTION,
    access: 'public',
    ...operation,
  };
}

const gatewaySection: ApiSection = {
  tag: 'gateway',
  description: 'The gateway itself: status of the services behind it, the live stream, and this document.',
  operations: [
    {
      operationId: 'openStream',
      method: 'get',
      path: STREAM_PATH,
      summary: 'Live stream of leaderboard changes and, signed in, your notifications (Server-Sent Events)',
      description: STREAM_DESCRIPTION,
      // Optional token: a visitor's stream carries only the public leaderboard updates.
      access: 'public',
      query: z.object({
        [ACCESS_TOKEN_PARAM]: z
          .string()
          .optional()
          .meta({ description: 'the access token, for clients that cannot send Authorization (EventSource)' }),
      }),
      response: { status: 200, schema: streamEventSchema, contentType: 'text/event-stream' },
      errors: [401, 503],
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
    sessionOperation('browserLogin', 'login', {
      summary: 'Sign a browser in (refresh token in an httpOnly cookie)',
      body: loginRequestSchema,
      response: { status: 200, schema: browserSessionSchema },
      errors: [401, 403, 429],
    }),
    sessionOperation('browserRegister', 'register', {
      summary: 'Create an account and sign the browser in',
      body: registerRequestSchema,
      response: { status: 201, schema: browserSessionSchema },
      errors: [403, 409, 429],
    }),
    sessionOperation('browserRefresh', 'refresh', {
      summary: "Rotate the browser's refresh cookie for a new access token (CSRF token required)",
      response: { status: 200, schema: browserSessionSchema },
      errors: [401, 403],
    }),
    sessionOperation('browserLogout', 'logout', {
      summary: 'Sign the browser out and clear its cookies (CSRF token required)',
      response: { status: 204 },
      errors: [403],
    }),
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

/** The routed apps' operations (seed aliases as deprecated copies) and their dead-letter admin API, from a registry. */
export function serviceSections(system: readonly AppRegistration[]): ApiSection[] {
  const deadLetterTopics = new Map(deadLetterAdminApps(system).map((a) => [a.appId, a.topics]));
  return system.flatMap((app) => {
    const topics = deadLetterTopics.get(app.appId);
    const operations = [
      ...routedOperations(app),
      // The platform's dead-letter admin API, as the gateway publishes it for this app.
      ...(topics ? deadLetterOperations(app.appId, topics) : []),
    ];
    return operations.length > 0 ? [{ tag: app.appId, description: app.description, operations }] : [];
  });
}

/** The document of a registry (the system's by default). */
export function publicApiDocument(version: string, system: readonly AppRegistration[] = SYSTEM): OpenApiDocument {
  return buildOpenApiDocument({
    version,
    problem: problemSchema,
    gateway: gatewaySection,
    services: serviceSections(system),
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
