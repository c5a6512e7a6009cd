/**
 * Writes src/api/generated/schema.ts: the TypeScript types of the gateway's OpenAPI document,
 * which openapi-fetch uses to type every call. test/api-client.test.ts fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import { generatedApiTypes, GENERATED_SCHEMA_PATH } from './api-types';

void generatedApiTypes().then((text) => {
  writeFileSync(GENERATED_SCHEMA_PATH, text);
  console.log(`wrote ${GENERATED_SCHEMA_PATH}`);
});
