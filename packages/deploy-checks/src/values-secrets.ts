import { isRecord } from './objects';

/** Keys that name a Secret or a list of names, not a secret value. */
const SECRET_NAME_KEYS =
  /^(existingSecret|tlsSecretName|allowedSecrets|imagePullSecrets|secretStoreName|secretKeyRef)$/;
const SECRET_KEY = /(password|passwd|secret|token|api[-_]?key|private[-_]?key|credential)/i;

/** Paths in a values document whose key says "secret" and whose value is a non-empty literal. */
export function findSecretValues(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => findSecretValues(item, `${path}[${index}]`));
  if (!isRecord(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const childPath = path === '' ? key : `${path}.${key}`;
    if (SECRET_NAME_KEYS.test(key)) return [];
    if (SECRET_KEY.test(key) && (typeof child === 'string' || typeof child === 'number') && String(child).trim() !== '')
      return [childPath];
    return findSecretValues(child, childPath);
  });
}
