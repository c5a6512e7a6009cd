export {
  createPrismaClient,
  checkDatabase,
  databaseReadiness,
  isRecordNotFound,
  isUniqueViolation,
  disconnectPrismaClient,
  DatabaseConfigError,
} from './client';
export type { PrismaClientConfig, PrismaClientLike, DatabaseCheck, DatabaseLogger } from './client';
export { applyMigrations, createMigration, loadMigrationsList, MigrationError } from './migrations';
export type {
  ApplyMigrationsOptions,
  ApplyMigrationsResult,
  CreateMigrationOptions,
  CreateMigrationResult,
} from './migrations';
export { startEmbeddedPostgres, EmbeddedPostgresError } from './embedded-postgres';
export type { EmbeddedPostgres, EmbeddedPostgresOptions } from './embedded-postgres';
export { SchemaEngineError } from './schema-engine';
