/**
 * The Quiz CustomResourceDefinition, generated from the zod contracts the quiz service validates
 * with (`npm run crd -w @quizmesh/operator` writes charts/quizmesh/crds/; a test fails when the file
 * and the contracts drift). zod's JSON Schema is turned into a *structural* schema as Kubernetes
 * requires (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema):
 * every $ref inlined, a type on every node, no `additionalProperties: false` (the API server prunes
 * unknown fields instead, and `kubectl apply` rejects them under its default strict validation),
 * OpenAPI v3.0 keywords only, list semantics as x-kubernetes-* extensions.
 */
import { z } from 'zod';
import { QUIZ_RESOURCE, quizResourceSpecSchema, quizResourceStatusSchema } from '@quizmesh/contracts/quiz-resource';

type Schema = Record<string, unknown>;

/** JSON Schema keywords a CRD's JSONSchemaProps accepts (the rest are dropped). */
const ALLOWED = new Set([
  'type',
  'format',
  'description',
  'default',
  'enum',
  'maximum',
  'minimum',
  'exclusiveMaximum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxProperties',
  'minProperties',
  'required',
  'items',
  'properties',
  'additionalProperties',
  'nullable',
  'example',
]);

function resolve(ref: string, root: Schema): Schema {
  const match = /^#\/(definitions|\$defs)\/(.+)$/.exec(ref);
  const defs = match ? (root[match[1] ?? ''] as Record<string, Schema> | undefined) : undefined;
  const target = match && defs ? defs[match[2] ?? ''] : undefined;
  if (!target) throw new Error(`cannot inline ${ref}`);
  return target;
}

/** One node of zod's output as a structural-schema node (recursively). */
function structural(node: Schema, root: Schema): Schema {
  if (typeof node.$ref === 'string') return structural({ ...resolve(node.$ref, root), ...omit(node, '$ref') }, root);
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'examples' && Array.isArray(value) && value.length > 0) out.example = value[0];
    if (!ALLOWED.has(key)) continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([name, child]) => [name, structural(child, root)]),
      );
    } else if (key === 'items') out.items = structural(value as Schema, root);
    else if (key === 'additionalProperties') {
      // `false` is implied by pruning; a schema (records) stays.
      if (typeof value === 'object' && value !== null) out.additionalProperties = structural(value as Schema, root);
    } else out[key] = value;
  }
  // zod spells date-times and UUIDs as a format plus a regex; the format alone is what Kubernetes checks.
  if (out.format === 'date-time') delete out.pattern;
  if (out.type === undefined)
    throw new Error(`a structural schema needs a type on every node: ${JSON.stringify(node)}`);
  return out;
}

function omit(node: Schema, key: string): Schema {
  const { [key]: _dropped, ...rest } = node;
  return rest;
}

function openApi(schema: z.ZodType, io: 'input' | 'output'): Schema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'throw', target: 'openapi-3.0' }) as Schema;
  return structural(json, json);
}

export function quizSpecSchema(): Schema {
  const spec = openApi(quizResourceSpecSchema, 'input');
  const properties = spec.properties as Record<string, Schema>;
  // Tags are a set: the API server then refuses duplicates itself.
  properties.tags = { ...properties.tags, 'x-kubernetes-list-type': 'set' };
  return spec;
}

export function quizStatusSchema(): Schema {
  const status = openApi(quizResourceStatusSchema, 'output');
  const properties = status.properties as Record<string, Schema>;
  // Conditions are a map keyed by type (server-side apply merges them one by one).
  properties.conditions = {
    ...properties.conditions,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  };
  return status;
}

export function quizCrd() {
  const { group, version, kind, listKind, plural, singular, shortNames } = QUIZ_RESOURCE;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, listKind, plural, singular, shortNames: [...shortNames], categories: ['quizmesh'] },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Title', type: 'string', jsonPath: '.spec.title' },
            {
              name: 'Published',
              type: 'integer',
              jsonPath: '.status.publishedVersion',
              description: 'published version',
            },
            { name: 'Players', type: 'integer', jsonPath: '.status.players' },
            { name: 'Top score', type: 'number', jsonPath: '.status.topScore' },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'A quiz as code: reconciled into the quiz service by the Quizmesh operator.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: quizSpecSchema(),
                status: quizStatusSchema(),
              },
            },
          },
        },
      ],
    },
  };
}
