/**
 * Writes src/api/generated/schema.ts: the TypeScript types of the gateway's OpenAPI document,
 * which openapi-fetch uses to type every call. `--check` writes nothing and exits 1 when the
 * committed file is stale (test/api-client.test.ts runs it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { generatedApiTypes, GENERATED_SCHEMA_PATH } from './api-types';

void generatedApiTypes().then((text) => {
  if (process.argv.includes('--check')) {
    const committed = readFileSync(GENERATED_SCHEMA_PATH, 'utf8');
    if (committed !== text) {
      console.error(`${GENERATED_SCHEMA_PATH} is stale: run npm run generate:api -w @quizmesh/web`);
      process.exit(1);
    }
    process.stdout.write('the generated API types are current\n');
    return;
  }
  writeFileSync(GENERATED_SCHEMA_PATH, text);
  process.stdout.write(`wrote ${GENERATED_SCHEMA_PATH}\n`);
});
