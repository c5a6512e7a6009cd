/** Messages between the main thread and the schema-engine worker (see schema-engine-worker.ts). */
import type { MigrationList, SchemaContainer } from '@prisma/schema-engine-wasm/schema_engine_bg';

/** `diff` from `migrationsList: null` means from an empty database. */
export type SchemaEngineTask =
  | { kind: 'apply'; databaseUrl: string; schema: SchemaContainer; migrationsList: MigrationList }
  | { kind: 'diff'; schema: SchemaContainer; migrationsList: MigrationList | null };

export type SchemaEngineWorkerMessage =
  | { type: 'log'; line: string }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: { message: string; code?: string; stack?: string } };
