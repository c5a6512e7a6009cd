/**
 * The CRD in the chart is what the contracts generate (no drift), it is a valid structural
 * CustomResourceDefinition, and the examples validate against it (JSON-schema validator, strict as
 * `kubectl apply`) and against the zod contract the quiz service uses.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { createAjv, strictStructuralSchema, validateKubernetesObject, validateWith } from '@quizmesh/deploy-checks';
import { QUIZ_API_VERSION, quizResourceSpecSchema } from '@quizmesh/contracts/quiz-resource';
import { quizCrd } from '../src/crd';
import { CRD_TEMPLATE_PATH, crdTemplate } from '../src/crd-file';

const EXAMPLES = join(__dirname, '..', 'examples');
const crd = quizCrd();
const schema = crd.spec.versions[0]?.schema.openAPIV3Schema;

/**
 * Patterns as the API server runs them: Go's RE2 knows Unicode classes such as \p{L}; ajv 6 compiles
 * `pattern` without the u flag, so here patterns are checked by a keyword that sets it. And a list
 * of type set refuses duplicates (structural schemas may not say uniqueItems themselves).
 */
function unicodePatterns(input: unknown): unknown {
  if (Array.isArray(input)) return input.map(unicodePatterns);
  if (!input || typeof input !== 'object') return input;
  let node = input as Record<string, unknown>;
  if (node['x-kubernetes-list-type'] === 'set') node = { ...node, uniqueItems: true };
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) =>
      key === 'pattern'
        ? ['unicodePattern', value]
        : [
            key,
            key === 'properties'
              ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, unicodePatterns(v)]))
              : unicodePatterns(value),
          ],
    ),
  );
}
const ajv = createAjv();
ajv.addKeyword('unicodePattern', {
  type: 'string',
  validate: (pattern: string, data: string) => new RegExp(pattern, 'u').test(data),
  errors: false,
});
const validate = ajv.compile(unicodePatterns(strictStructuralSchema(schema)) as object);

const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(EXAMPLES, file), 'utf8')).map((doc) => ({
      file,
      object: doc.toJS() as Record<string, unknown>,
    })),
  );

it('the chart carries the CRD the contracts generate (run `npm run crd -w @quizmesh/operator` after changing them)', () => {
  expect(readFileSync(CRD_TEMPLATE_PATH, 'utf8')).toBe(crdTemplate());
});

it('is a valid CustomResourceDefinition', () => {
  const rendered = parse(
    crdTemplate()
      .split('\n')
      .filter((line) => !line.startsWith('{{'))
      .join('\n'),
  ) as Parameters<typeof validateKubernetesObject>[0];
  expect(validateKubernetesObject(rendered)).toEqual([]);
});

it('has a structural schema: a type on every node, no $ref, no additionalProperties: false', () => {
  const problems: string[] = [];
  const walk = (node: Record<string, unknown>, path: string) => {
    if (node.type === undefined) problems.push(`${path}: no type`);
    for (const bad of ['$ref', '$schema', 'definitions', '$defs', 'anyOf', 'oneOf', 'allOf', 'const', 'examples'])
      if (bad in node) problems.push(`${path}: ${bad}`);
    if (node.additionalProperties === false) problems.push(`${path}: additionalProperties: false`);
    for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>))
      walk(child, `${path}.${name}`);
    if (node.items) walk(node.items as Record<string, unknown>, `${path}[]`);
  };
  walk(schema as Record<string, unknown>, '');
  expect(problems).toEqual([]);
});

it.each(
  examples.map((e) => [`${e.file} ${String((e.object.metadata as { name?: string })?.name)}`, e.object] as const),
)('example %s validates against the CRD and the contract', (_name, object) => {
  expect(object.apiVersion).toBe(QUIZ_API_VERSION);
  expect(validateWith(validate, object)).toEqual([]);
  expect(quizResourceSpecSchema.safeParse(object.spec).error?.issues ?? []).toEqual([]);
});

it('rejects what the quiz API rejects: unknown fields, out-of-range numbers, bad enums', () => {
  const base = examples[0]?.object as { spec: Record<string, unknown> };
  for (const spec of [
    { ...base.spec, timeLimitSeconds: 5 },
    { ...base.spec, difficulty: 'impossible' },
    { ...base.spec, colour: 'blue' },
    { ...base.spec, tags: ['a', 'a'] },
    { ...base.spec, questions: [{ type: 'single', text: 'Q', options: [{ text: 'only one', correct: true }] }] },
  ]) {
    expect(validateWith(validate, { ...base, spec })).not.toEqual([]);
  }
});

it('accepts the status the operator writes', () => {
  const status = {
    quizId: '2f7d0c84-6f7e-4a7b-9a43-2a1b8d6a9e10',
    observedGeneration: 2,
    publishedVersion: 2,
    players: 3,
    topScore: 7,
    statsUpdatedAt: '2026-12-06T03:00:00.000Z',
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Reconciled',
        message: 'ok',
        lastTransitionTime: '2026-12-06T03:00:00.000Z',
        observedGeneration: 2,
      },
    ],
  };
  const base = examples[0]?.object ?? {};
  expect(validateWith(validate, { ...base, status })).toEqual([]);
});
