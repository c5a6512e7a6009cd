import { parseAllDocuments } from 'yaml';

/** A parsed Kubernetes (or Dapr) object; everything below metadata stays `unknown` until checked. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown): JsonRecord {
  return isRecord(value) ? value : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Reads a dotted path ("spec.template.spec") through records; undefined when any step is missing. */
export function pathGet(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const key of path.split('.')) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (!isRecord(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) out[key] = String(entry);
  return out;
}

export function toKubeObject(value: unknown, source: string): KubeObject {
  if (!isRecord(value)) throw new Error(`${source}: document is not a mapping`);
  const { apiVersion, kind, metadata } = value;
  const name = pathGet(metadata, 'name');
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof name !== 'string') {
    throw new Error(`${source}: object without apiVersion, kind or metadata.name`);
  }
  const namespace = asString(pathGet(metadata, 'namespace'));
  const labels = stringMap(pathGet(metadata, 'labels'));
  const annotations = stringMap(pathGet(metadata, 'annotations'));
  return {
    ...value,
    apiVersion,
    kind,
    metadata: {
      ...asRecord(metadata),
      name,
      ...(namespace === undefined ? {} : { namespace }),
      ...(labels === undefined ? {} : { labels }),
      ...(annotations === undefined ? {} : { annotations }),
    },
  };
}

/** Parses a multi-document YAML stream into objects, skipping empty documents. */
export function parseManifests(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) {
      throw new Error(`${source}: YAML error: ${document.errors.map((error) => error.message).join('; ')}`);
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    objects.push(toKubeObject(value, source));
  }
  return objects;
}

/** "Kind/name", how every check names an object in its messages. */
export function objectId(object: KubeObject): string {
  return `${object.kind}/${object.metadata.name}`;
}
