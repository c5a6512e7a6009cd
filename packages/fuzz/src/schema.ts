/**
 * The gateway's OpenAPI document as fuzzing input: its operations, and fast-check arbitraries
 * for the JSON Schemas of their parameters and bodies. Each value is drawn either from the
 * schema (so requests get past validation and reach the services) or from hostile input (wrong
 * types, forged cursors, invisible characters, injection-looking strings, huge values), so
 * both the happy paths and every validation layer are exercised.
 */
import fc from 'fast-check';

export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  default?: unknown;
};

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}

export interface Operation {
  /** `GET /api/v1/quizzes/{id}` */
  id: string;
  method: string;
  path: string;
  parameters: Parameter[];
  body: JsonSchema | undefined;
  /** true when the document requires a bearer token */
  secured: boolean;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, JsonSchema> };
  security?: unknown[];
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

export function operationsOf(document: OpenApiDocument): { operations: Operation[]; resolve: Resolver } {
  const schemas = document.components?.schemas ?? {};
  const resolve: Resolver = (schema) => {
    let current = schema;
    for (let depth = 0; current.$ref !== undefined && depth < 20; depth += 1) {
      const name = current.$ref.replace(/^#\/components\/schemas\//, '');
      current = schemas[name] ?? {};
    }
    return current;
  };
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    const shared = ((item as { parameters?: Parameter[] }).parameters ?? []) as Parameter[];
    for (const method of METHODS) {
      const op = item[method] as
        | {
            parameters?: Parameter[];
            requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
            security?: unknown[];
          }
        | undefined;
      if (!op) continue;
      const security = op.security ?? document.security ?? [];
      operations.push({
        id: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        parameters: [...shared, ...(op.parameters ?? [])],
        body: op.requestBody?.content?.['application/json']?.schema,
        secured: security.some((s) => Object.keys(s as object).length > 0),
      });
    }
  }
  return { operations, resolve };
}

export type Resolver = (schema: JsonSchema) => JsonSchema;

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const UUID0 = '00000000-0000-4000-8000-000000000000';

/** Strings that broke (or could break) some layer: kept in every string position's mix. */
export const HOSTILE_STRINGS = [
  '',
  ' ',
  'a\u0000b',
  'line\u2028break',
  '\uFEFFbom',
  'rtl\u202Eevil',
  'zero\u200Bwidth',
  '\ud800',
  "' OR 1=1 --",
  '"; DROP TABLE "User"; --',
  '../../../../etc/passwd',
  '%2e%2e%2f',
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '-'.repeat(36),
  '00000000-0000-0000-0000-00000000000g',
  UUID0.toUpperCase(),
  '-271821-04-20T00:00:00.000Z',
  '0000-01-01T00:00:00.000Z',
  '+275760-09-13T00:00:00.000Z',
  '9999999999999999999999',
  '-1',
  '1e309',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
  'Zoe\u0301\u0302\u0303\u0304\u0305',
  '😀'.repeat(60),
  'x'.repeat(5_000),
  b64(`-271821-04-20T00:00:00.000Z|${UUID0}`),
  b64(`0000-01-01T00:00:00.000Z|${UUID0}`),
  b64(`2026-11-18T08:00:00.000Z|${'-'.repeat(36)}`),
  b64('{"t":"-271821-04-20T00:00:00.000Z","i":"x"}'),
  b64('garbage'),
];

const hostileString = fc.constantFrom(...HOSTILE_STRINGS);

/** Any JSON value, including the awkward ones (deep nesting, big numbers, prototype keys). */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom<unknown>(
    { __proto__: { admin: true } },
    { constructor: { prototype: { admin: true } } },
    Number.MAX_SAFE_INTEGER,
    -0,
    1e308,
    [[[[[[[[[[[]]]]]]]]]]],
  ),
);

/** A value valid for `schema` (as far as JSON Schema says: services may still refuse it). */
export function validArbitrary(schema: JsonSchema, resolve: Resolver, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  if (depth > 6) return fc.constant(null);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const choices = s.anyOf ?? s.oneOf;
  if (choices && choices.length > 0) return fc.oneof(...choices.map((c) => validArbitrary(c, resolve, depth + 1)));
  if (s.allOf && s.allOf.length > 0) {
    const merged: JsonSchema = {};
    for (const part of s.allOf) Object.assign(merged, resolve(part));
    return validArbitrary(merged, resolve, depth + 1);
  }
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== 'null') ?? 'null') : s.type;
  switch (type) {
    case 'string':
      return stringArbitrary(s);
    case 'integer':
      return fc.integer({
        min: Math.ceil(s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1_000)),
        max: Math.floor(s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : 1_000)),
      });
    case 'number':
      return fc.double({
        min: s.minimum ?? s.exclusiveMinimum ?? -1_000,
        max: s.maximum ?? s.exclusiveMaximum ?? 1_000,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(validArbitrary(s.items ?? {}, resolve, depth + 1), {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 4, (s.minItems ?? 0) + 4),
      });
    case 'object': {
      const properties = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, prop] of Object.entries(properties)) record[name] = validArbitrary(prop, resolve, depth + 1);
      return fc.record(record, { requiredKeys: [...required].filter((k) => k in record) });
    }
    default:
      return anyJson;
  }
}

function stringArbitrary(s: JsonSchema): fc.Arbitrary<string> {
  if (s.format === 'uuid') return fc.uuid({ version: 4 });
  if (s.format === 'email') return fc.emailAddress();
  if (s.format === 'date-time')
    return fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString());
  const min = s.minLength ?? 0;
  const max = Math.max(min, Math.min(s.maxLength ?? 40, min + 40));
  if (s.pattern) {
    try {
      return fc
        .stringMatching(new RegExp(s.pattern, 'u'))
        .filter((v) => v.length >= min && v.length <= (s.maxLength ?? Infinity));
    } catch {
      // a pattern JavaScript cannot compile: fall through
    }
  }
  return fc.string({ unit: 'grapheme', minLength: min, maxLength: max });
}

/** A value for `schema` that is valid half the time and hostile otherwise. */
export function fuzzArbitrary(schema: JsonSchema | undefined, resolve: Resolver): fc.Arbitrary<unknown> {
  if (!schema) return anyJson;
  const valid = validArbitrary(schema, resolve);
  const s = resolve(schema);
  const mutated =
    s.type === 'object' && s.properties
      ? valid.chain((value) =>
          fc
            .tuple(fc.constantFrom(...Object.keys(s.properties ?? {})), fc.oneof(hostileString, anyJson))
            .map(([key, bad]) => ({ ...(value as object), [key]: bad })),
        )
      : fc.oneof(hostileString, anyJson);
  return fc.oneof(
    { arbitrary: valid, weight: 5 },
    { arbitrary: mutated, weight: 4 },
    { arbitrary: anyJson, weight: 1 },
  );
}

/** A path or query value: schema-valid or hostile, as the string that goes into the URL. */
export function parameterArbitrary(parameter: Parameter, resolve: Resolver): fc.Arbitrary<string | undefined> {
  const valid = validArbitrary(parameter.schema ?? { type: 'string' }, resolve).map((v) =>
    typeof v === 'string' ? v : JSON.stringify(v),
  );
  const value = fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: hostileString, weight: 4 });
  if (parameter.in === 'query' && !parameter.required) return fc.option(value, { nil: undefined, freq: 3 });
  return value;
}
