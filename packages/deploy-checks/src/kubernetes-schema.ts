import { createRequire } from 'node:module';
import { objectId, type KubeObject } from './objects';

interface ModelInstance {
  validate(): void;
}
type ModelClass = new (data: unknown) => ModelInstance;

const load = createRequire(__filename);

function isModelClass(value: unknown): value is ModelClass {
  return (
    typeof value === 'function' &&
    typeof (value as { prototype?: { validate?: unknown } }).prototype?.validate === 'function'
  );
}

/**
 * The kubernetes-models class for an apiVersion/kind: the package lays out one module per API
 * group version (`kubernetes-models/apps/v1`, `kubernetes-models/v1` for core), exporting one
 * class per kind.
 */
export function modelFor(apiVersion: string, kind: string): ModelClass | undefined {
  let groupVersion: unknown;
  try {
    groupVersion = load(`kubernetes-models/${apiVersion}`);
  } catch {
    return undefined;
  }
  if (typeof groupVersion !== 'object' || groupVersion === null) return undefined;
  const model: unknown = (groupVersion as Record<string, unknown>)[kind];
  return isModelClass(model) ? model : undefined;
}

export function isKubernetesBuiltIn(object: KubeObject): boolean {
  return modelFor(object.apiVersion, object.kind) !== undefined;
}

/** Schema errors of one built-in object ("Deployment/x: data/spec/... must be string"); [] when valid. */
export function validateKubernetesObject(object: KubeObject): string[] {
  const Model = modelFor(object.apiVersion, object.kind);
  if (Model === undefined) return [`${objectId(object)}: no Kubernetes schema for ${object.apiVersion} ${object.kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (error: unknown) {
    return [`${objectId(object)}: ${error instanceof Error ? error.message : String(error)}`];
  }
}
