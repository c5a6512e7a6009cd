import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { createAjv, strictStructuralSchema, validateWith } from './json-schema';
import { asArray, asString, isRecord, objectId, pathGet, type KubeObject } from './objects';

export const SCHEMAS_DIR = resolve(__dirname, '..', 'schemas');

/** Validators for every served version of Dapr's CRDs, keyed "<apiVersion>/<kind>" (e.g. "dapr.io/v2alpha1/Subscription"). */
function loadDaprValidators(): Map<string, ValidateFunction> {
  const ajv = createAjv();
  const validators = new Map<string, ValidateFunction>();
  const dir = join(SCHEMAS_DIR, 'dapr-crds');
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.yaml'))) {
    const crd: unknown = parse(readFileSync(join(dir, file), 'utf8'));
    const group = asString(pathGet(crd, 'spec.group'));
    const kind = asString(pathGet(crd, 'spec.names.kind'));
    if (group === undefined || kind === undefined) throw new Error(`${file}: not a CustomResourceDefinition`);
    for (const version of asArray(pathGet(crd, 'spec.versions'))) {
      const name = asString(pathGet(version, 'name'));
      const schema = pathGet(version, 'schema.openAPIV3Schema');
      if (name === undefined || !isRecord(schema) || pathGet(version, 'served') !== true) continue;
      validators.set(`${group}/${name}/${kind}`, ajv.compile(strictStructuralSchema(schema) as object));
    }
  }
  return validators;
}

let cached: Map<string, ValidateFunction> | undefined;

export function isDaprResource(object: Pick<KubeObject, 'apiVersion'>): boolean {
  return object.apiVersion.startsWith('dapr.io/');
}

/** Errors of one Dapr resource against its CRD schema, each prefixed with "Kind/name"; [] when valid. */
export function validateDaprResource(object: KubeObject): string[] {
  cached ??= loadDaprValidators();
  const validate = cached.get(`${object.apiVersion}/${object.kind}`);
  if (validate === undefined)
    return [`${objectId(object)}: no Dapr CRD schema for ${object.apiVersion} ${object.kind}`];
  return validateWith(validate, object).map((error) => `${objectId(object)}: ${error}`);
}
