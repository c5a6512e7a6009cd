/**
 * Parsing of metadata strings the way Dapr (Go) parses them, so a value that daprd
 * rejects is rejected here too instead of being silently read as a default.
 */

const goTrue = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const goFalse = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool: undefined when the text is not a boolean. */
export function parseGoBool(value: string): boolean | undefined {
  if (goTrue.has(value)) return true;
  if (goFalse.has(value)) return false;
  return undefined;
}

/** Case-insensitive lookup, as Dapr does for component and request metadata keys. */
export function findMetadata(metadata: Record<string, string>, key: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(metadata, key)) return metadata[key];
  const lower = key.toLowerCase();
  for (const [name, value] of Object.entries(metadata)) {
    if (name.toLowerCase() === lower) return value;
  }
  return undefined;
}

/** Non-negative integer or undefined when absent/empty; throws on anything else. */
export function parseNonNegativeInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (!/^\d+$/.test(value.trim())) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return Number(value.trim());
}

/** The request's message TTL (`ttlInSeconds`), in seconds; undefined when absent or unusable. */
export function requestTtlSeconds(metadata: Record<string, string>): number | undefined {
  const raw = metadata.ttlInSeconds;
  if (raw === undefined || raw === '') return undefined;
  // Dapr ignores (with a warning) a TTL it cannot parse rather than failing the publish.
  if (!/^-?\d+$/.test(raw.trim())) return undefined;
  const seconds = Number(raw.trim());
  return seconds > 0 ? seconds : undefined;
}
