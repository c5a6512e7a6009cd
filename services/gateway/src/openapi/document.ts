/**
 * The OpenAPI 3.1 document of the public API, built at start from the system registry
 * (`@quizmesh/contracts/registry`): the zod schemas that validate requests in the services are
 * converted with zod 4's `z.toJSONSchema` (draft 2020-12, the dialect of OAS 3.1), so the
 * document cannot drift from what the services accept and answer.
 */
import { STATUS_CODES } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { ApiOperation as ContractOperation } from '@quizmesh/contracts/operations';

export type HttpMethod = ContractOperation['method'];

/** One documented endpoint: an operation of the registry, or one of the gateway's own (which may answer other content types). */
export interface ApiOperation extends Omit<ContractOperation, 'response' | 'errors'> {
  response: { status: number; schema?: z.ZodType; contentType?: string };
  /** problem statuses the operation itself produces (beyond validation and the gateway's own) */
  errors: readonly number[];
}

export interface ApiSection {
  /** the tag: the app id serving these operations, or `gateway` */
  tag: string;
  description: string;
  operations: readonly ApiOperation[];
}

export interface OpenApiDocument {
  openapi: '3.1.1';
  info: { title: string; version: string; description: string };
  jsonSchemaDialect: string;
  servers: Array<{ url: string }>;
  security: Array<Record<string, string[]>>;
  tags: Array<Record<string, unknown>>;
  paths: Record<string, Record<string, unknown>>;
  components: {
    schemas: Record<string, unknown>;
    responses: Record<string, unknown>;
    securitySchemes: Record<string, unknown>;
    headers: Record<string, unknown>;
  };
}

type Json = unknown;
type JsonObject = Record<string, Json>;

const DIALECT = 'https://json-schema.org/draft/2020-12/schema';
const COMPONENT_REF = '#/components/schemas/';

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rewrites `#/$defs/X` references to their component names. */
function rewriteRefs(value: Json, names: ReadonlyMap<string, string>): Json {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, names));
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === '$ref' && typeof child === 'string' && child.startsWith('#/$defs/')) {
      const id = child.slice('#/$defs/'.length);
      out[key] = COMPONENT_REF + (names.get(id) ?? id);
    } else {
      out[key] = rewriteRefs(child, names);
    }
  }
  return out;
}

/** Converts zod schemas, moving every schema with a `.meta({ id })` into `components.schemas`. */
export class SchemaComponents {
  readonly schemas: Record<string, Json> = {};

  convert(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
    const json = z.toJSONSchema(schema, {
      io,
      target: 'draft-2020-12',
      // A transform's output has no JSON Schema; document it as "any" rather than fail at start.
      unrepresentable: 'any',
    }) as JsonObject;
    const { $schema: _dialect, $defs, ...root } = json;
    const defs = isObject($defs) ? $defs : {};
    // The same id can render differently as input (defaults optional) and output: keep both, suffixed.
    const identity = new Map(Object.keys(defs).map((id) => [id, id]));
    const names = new Map<string, string>();
    for (const [id, def] of Object.entries(defs)) {
      const existing = this.schemas[id];
      const same = existing === undefined || isDeepStrictEqual(existing, rewriteRefs(def, identity));
      names.set(id, same ? id : `${id}${io === 'input' ? 'Input' : 'Output'}`);
    }
    for (const [id, def] of Object.entries(defs)) {
      this.schemas[names.get(id) ?? id] = rewriteRefs(def, names);
    }
    return rewriteRefs(root, names) as JsonObject;
  }

  /** The object schema behind a (possibly referenced) schema, for turning query/path schemas into parameters. */
  resolve(schema: JsonObject): JsonObject {
    const ref = schema.$ref;
    if (typeof ref === 'string' && ref.startsWith(COMPONENT_REF)) {
      const target = this.schemas[ref.slice(COMPONENT_REF.length)];
      if (isObject(target)) return target;
    }
    return schema;
  }
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid; `errors` names each offending field.',
  401: 'No access token, or one that is expired, tampered with or not ours.',
  403: 'The token is valid but its roles do not allow this.',
  404: 'Not found.',
  409: 'Conflicts with the current state.',
  413: 'The request body exceeds the size limit.',
  415: 'The request body is not application/json.',
  429: 'A rate limit was reached; retry after the number of seconds in Retry-After.',
  503: 'The service behind this route is down, or its circuit breaker is open.',
  504: 'The service behind this route did not answer in time.',
};

function problemResponse(status: number): JsonObject {
  const headers: JsonObject = {};
  if (status === 429) headers['Retry-After'] = { $ref: '#/components/headers/RetryAfter' };
  if (status === 401) headers['WWW-Authenticate'] = { $ref: '#/components/headers/WwwAuthenticate' };
  return {
    description: PROBLEM_DESCRIPTIONS[status] ?? STATUS_CODES[status] ?? 'Error',
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    content: { 'application/problem+json': { schema: { $ref: `${COMPONENT_REF}Problem` } } },
  };
}

function parameters(
  components: SchemaComponents,
  schema: z.ZodType | undefined,
  location: 'path' | 'query',
): JsonObject[] {
  if (!schema) return [];
  const object = components.resolve(components.convert(schema, 'input'));
  const properties = isObject(object.properties) ? object.properties : {};
  const required = new Set(Array.isArray(object.required) ? object.required : []);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || required.has(name),
    schema: property,
    ...(isObject(property) && typeof property.description === 'string' ? { description: property.description } : {}),
  }));
}

function operationObject(components: SchemaComponents, tag: string, op: ApiOperation, proxied: boolean): JsonObject {
  const statuses = new Set<number>(op.errors);
  if (op.params || op.query || op.body) statuses.add(400);
  if (op.access !== 'public') statuses.add(401);
  if (op.access === 'admin') statuses.add(403);
  statuses.add(429);
  if (op.body) {
    statuses.add(413);
    statuses.add(415);
  }
  if (proxied) {
    statuses.add(503);
    statuses.add(504);
  }
  const responses: JsonObject = {};
  const { status, schema, contentType = 'application/json' } = op.response;
  responses[String(status)] = {
    description: STATUS_CODES[status] ?? 'Success',
    ...(schema ? { content: { [contentType]: { schema: components.convert(schema, 'output') } } } : {}),
  };
  if (op.conditionalGet) {
    const etag = { $ref: '#/components/headers/ETag' };
    (responses[String(status)] as JsonObject).headers = {
      ETag: etag,
      'Cache-Control': { $ref: '#/components/headers/CacheControlNoCache' },
    };
    responses['304'] = {
      description: 'Not Modified: If-None-Match names the current ETag; no body.',
      headers: { ETag: etag },
    };
  }
  for (const code of [...statuses].sort((a, b) => a - b))
    responses[String(code)] = { $ref: `#/components/responses/Problem${code}` };

  const params = [
    ...parameters(components, op.params, 'path'),
    ...parameters(components, op.query, 'query'),
    ...(op.conditionalGet
      ? [
          {
            name: 'If-None-Match',
            in: 'header',
            required: false,
            schema: { type: 'string' },
            description: 'The ETag of the copy you hold: 304 without a body while it is current.',
          },
        ]
      : []),
  ];
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [tag],
    ...(op.deprecated ? { deprecated: true } : {}),
    // Public endpoints take no token (one that is sent is still checked).
    ...(op.access === 'public' ? { security: [] } : {}),
    ...(op.access === 'admin' ? { 'x-required-roles': ['admin'] } : {}),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: components.convert(op.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

export interface DocumentInput {
  version: string;
  /** the gateway's own endpoints (not proxied) */
  gateway: ApiSection;
  /** the services' endpoints, proxied */
  services: readonly ApiSection[];
  /** the problem+json body every error has (a schema with `.meta({ id: 'Problem' })`) */
  problem: z.ZodType;
}

export function buildOpenApiDocument(input: DocumentInput): OpenApiDocument {
  const components = new SchemaComponents();
  const problemRef = components.convert(input.problem, 'output');
  if (problemRef.$ref !== `${COMPONENT_REF}Problem`)
    throw new Error("OpenAPI: the problem schema must carry .meta({ id: 'Problem' })");
  const paths: Record<string, Record<string, unknown>> = {};
  const add = (section: ApiSection, proxied: boolean) => {
    for (const op of section.operations) {
      const item = (paths[op.path] ??= {});
      if (item[op.method] !== undefined)
        throw new Error(`OpenAPI: ${op.method.toUpperCase()} ${op.path} is documented twice`);
      item[op.method] = operationObject(components, section.tag, op, proxied);
    }
  };
  add(input.gateway, false);
  for (const service of input.services) add(service, true);

  const statuses = new Set<number>();
  for (const item of Object.values(paths)) {
    for (const op of Object.values(item)) {
      const responses = isObject(op) && isObject(op.responses) ? op.responses : {};
      for (const [code, response] of Object.entries(responses))
        if (isObject(response) && '$ref' in response) statuses.add(Number(code));
    }
  }
  const responses = Object.fromEntries(
    [...statuses].sort((a, b) => a - b).map((code) => [`Problem${code}`, problemResponse(code)]),
  );

  return {
    openapi: '3.1.1',
    info: {
      title: 'Quizmesh public API',
      version: input.version,
      description: [
        'Every endpoint is served through the gateway. Send `Authorization: Bearer <accessToken>` (from login or register) except where an operation says it needs no token.',
        'Errors are RFC 9457 problem details (`application/problem+json`). Rate limits answer 429 with `Retry-After`.',
      ].join('\n\n'),
    },
    jsonSchemaDialect: DIALECT,
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: input.gateway.tag, description: input.gateway.description },
      ...input.services.map((s) => ({ name: s.tag, description: s.description })),
    ],
    paths,
    components: {
      schemas: components.schemas,
      responses,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'An access token from login, register or refresh (ES256).',
        },
      },
      headers: {
        RetryAfter: {
          description: 'Seconds until the request may be retried.',
          schema: { type: 'integer', minimum: 1 },
        },
        ETag: {
          description: 'A strong validator of this representation; send it back as If-None-Match.',
          schema: { type: 'string' },
        },
        CacheControlNoCache: {
          description: '`no-cache`: a client may keep the answer but revalidates it (If-None-Match) before use.',
          schema: { type: 'string', const: 'no-cache' },
        },
        WwwAuthenticate: {
          description: 'RFC 6750 challenge, with error="invalid_token" when a token was rejected.',
          schema: { type: 'string' },
        },
      },
    },
  };
}
