import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { isRecord } from './objects';

/** One ajv instance for draft-07 and OpenAPI v3 (CRD) schemas. */
export function createAjv(): Ajv.Ajv {
  const ajv = new Ajv({ allErrors: true, nullable: true, jsonPointers: true });
  // OpenAPI's integer formats, used by the CRD schemas.
  ajv.addFormat('int32', {
    type: 'number',
    validate: (value: number) => Number.isInteger(value) && Math.abs(value) <= 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (value: number) => Number.isSafeInteger(value) });
  return ajv;
}

export function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => {
    const where = error.dataPath === '' ? '(root)' : error.dataPath;
    const extra =
      error.keyword === 'additionalProperties' && 'additionalProperty' in error.params
        ? ` '${String(error.params.additionalProperty)}'`
        : error.keyword === 'enum' && 'allowedValues' in error.params
          ? ` ${JSON.stringify(error.params.allowedValues)}`
          : '';
    return `${where} ${error.message ?? error.keyword}${extra}`;
  });
}

export function validateWith(validate: ValidateFunction, value: unknown): string[] {
  return validate(value) ? [] : formatErrors(validate.errors);
}

/**
 * Returns a copy of an OpenAPI v3 (structural) schema in which every object with declared
 * properties rejects undeclared ones, as the API server does under strict field validation
 * (kubectl's default): a typo in a Dapr resource fails instead of being silently pruned.
 */
export function strictStructuralSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strictStructuralSchema);
  if (!isRecord(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    // `properties` maps names to schemas: recurse into each value, not into the map itself.
    out[key] =
      key === 'properties' && isRecord(value)
        ? Object.fromEntries(Object.entries(value).map(([name, child]) => [name, strictStructuralSchema(child)]))
        : strictStructuralSchema(value);
  }
  if (
    isRecord(out.properties) &&
    !('additionalProperties' in out) &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    out.additionalProperties = false;
  }
  return out;
}
