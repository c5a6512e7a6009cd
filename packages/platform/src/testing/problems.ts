/**
 * What every service's bad-input tests share: the check that an answer is the platform's
 * problem+json, and the hostile bodies every JSON endpoint must refuse with the right 4xx.
 * Framework-free (node:assert), so jest shows the failed comparison as it does its own.
 */
import assert from 'node:assert/strict';

/** The parts of an answer the check reads (a supertest response fits). */
export interface AnswerLike {
  status: number;
  headers: Record<string, unknown>;
  body: unknown;
}

/** `res` is a problem+json of `status` (a platform problem type), naming `field` when given. */
export function expectProblem(res: AnswerLike, status: number, field?: string): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.body as { status?: unknown; type?: unknown } | null;
  assert.equal(body?.status, status);
  assert.match(String(body?.type), /^https:\/\/quizmesh\.dev\/problems\//);
  if (field) assert.ok(JSON.stringify(res.body).includes(field), `the problem does not name ${field}`);
}

/** One hostile body: JSON-encoded `body`, or `raw` text with its content type. */
export interface BadBodyCase {
  name: string;
  body?: unknown;
  raw?: { text: string; contentType: string };
  status: number;
  /** a field the problem's `errors` (or `detail`) must name */
  field?: string;
}

/** One bad request of a service's bad-input table: the 4xx it must get, and who sends it. */
export interface BadRequestCase<Who extends string = never> extends BadBodyCase {
  method: 'get' | 'post' | 'patch' | 'put';
  /** path with query string, already encoded where needed */
  path: string;
  /** the user the gateway forwards (none: anonymous, or the test's default) */
  as?: Who;
}

/** Cursors whose timestamp or id PostgreSQL refuses: issue 11, each answered 500. */
export const FORGED_CURSORS: readonly string[] = [
  '-271821-04-20T00:00:00.000Z|00000000-0000-4000-8000-000000000000',
  '0000-01-01T00:00:00.000Z|00000000-0000-4000-8000-000000000000',
  `2026-11-18T08:00:00.000Z|${'-'.repeat(36)}`,
].map((cursor) => Buffer.from(cursor).toString('base64url'));

export interface BadBodyOptions {
  /** values put in each field in turn (each must be refused with 400 naming the field) */
  wrongTypes: readonly unknown[];
  /** skip a wrong value of the same JSON kind as the valid one (e.g. a string for a string field) */
  skipSameKind?: boolean;
  /** a field the endpoint does not accept, e.g. `{ isAdmin: true }` (a mass-assignment attempt) */
  unknownField: Record<string, unknown>;
  /** false for partial updates: leaving a field out is fine */
  required?: boolean;
}

const kind = (value: unknown) => (Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value);

/**
 * The bodies a JSON endpoint taking `valid` must refuse: malformed JSON, non-object JSON, other
 * encodings (415), an oversized body (413), an unknown field, each field missing and each field
 * of a wrong type (400 naming `body.<field>`).
 */
export function badJsonBodyCases(valid: Record<string, unknown>, options: BadBodyOptions): BadBodyCase[] {
  const [firstField, firstValue] = Object.entries(valid)[0] ?? ['field', 'x'];
  const cases: BadBodyCase[] = [
    {
      name: 'malformed JSON',
      raw: { text: `{${JSON.stringify(firstField)}: ${JSON.stringify(firstValue)},`, contentType: 'application/json' },
      status: 400,
    },
    { name: 'a JSON array', body: [valid], status: 400, field: 'body' },
    { name: 'a JSON string', raw: { text: '"hello"', contentType: 'application/json' }, status: 400, field: 'body' },
    { name: 'JSON null', raw: { text: 'null', contentType: 'application/json' }, status: 400, field: 'body' },
    {
      name: 'form encoding',
      raw: {
        text: new URLSearchParams({ [firstField]: String(firstValue) }).toString(),
        contentType: 'application/x-www-form-urlencoded',
      },
      status: 415,
    },
    { name: 'text/plain', raw: { text: JSON.stringify(valid), contentType: 'text/plain' }, status: 415 },
    { name: 'an oversized body', body: { ...valid, padding: 'x'.repeat(200 * 1024) }, status: 413 },
    {
      name: 'an unknown field',
      body: { ...valid, ...options.unknownField },
      status: 400,
      field: Object.keys(options.unknownField)[0] ?? '',
    },
  ];
  for (const field of Object.keys(valid)) {
    if (options.required !== false) {
      const without = { ...valid };
      delete without[field];
      cases.push({ name: `missing ${field}`, body: without, status: 400, field: `body.${field}` });
    }
    const wrong = options.skipSameKind
      ? options.wrongTypes.filter((value) => kind(value) !== kind(valid[field]))
      : options.wrongTypes;
    for (const value of wrong) {
      cases.push({
        name: `${field} = ${JSON.stringify(value)}`,
        body: { ...valid, [field]: value },
        status: 400,
        field: `body.${field}`,
      });
    }
  }
  return cases;
}

/** A route of a bad-input table, its parameter written `:value`. */
export interface RouteTemplate<Who extends string = never> {
  /** what the request does, e.g. `GET a quiz with id` (the value is appended) */
  name: string;
  method: BadRequestCase['method'];
  path: string;
  as?: Who;
  /** a valid body, so only the parameter is wrong */
  body?: unknown;
}

/** Each bad `values` in each route's parameter: 400 naming `field`. */
export function badParamCases<Who extends string = never>(
  values: readonly string[],
  field: string,
  routes: ReadonlyArray<RouteTemplate<Who>>,
): Array<BadRequestCase<Who>> {
  return values.flatMap((value) =>
    routes.map(({ name, path, ...route }) => ({
      ...route,
      name: `${name} ${value}`,
      path: path.replace(':value', value),
      status: 400,
      field,
    })),
  );
}
