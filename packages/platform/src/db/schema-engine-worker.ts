/**
 * Runs one task of Prisma's WebAssembly schema engine inside a worker thread.
 *
 * The engine's JavaScript bindings are an ES module that imports a `.wasm` file. A worker
 * is a plain Node.js context: it can `require()` that ES module (Node >= 20.19) even when the
 * caller runs inside jest's module sandbox, and we instantiate the `.wasm` bytes ourselves so
 * no `--experimental-wasm-modules` flag is needed anywhere. The engine (~5 MB of wasm memory)
 * is gone when the worker exits.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import * as engineBindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import { DatabaseError, Pool } from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { SchemaEngineTask, SchemaEngineWorkerMessage } from './schema-engine-protocol';

const noSchemaFilter = { externalTables: [], externalEnums: [] };

/** The part of the WebAssembly global we use (the workspace's `lib` has no WebAssembly types). */
interface WebAssemblyRuntime {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, object>) => { exports: Record<string, unknown> };
}
const { WebAssembly: wasmRuntime } = globalThis as unknown as { WebAssembly: WebAssemblyRuntime };

function loadEngineBindings(): typeof engineBindings {
  const wasmPath = join(
    dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')),
    'schema_engine_bg.wasm',
  );
  // The bindings module is exactly the import object the .wasm expects under this name.
  const instance = new wasmRuntime.Instance(new wasmRuntime.Module(readFileSync(wasmPath)), {
    './schema_engine_bg.js': engineBindings,
  });
  engineBindings.__wbg_set_wasm(instance.exports);
  const start = instance.exports.__wbindgen_start;
  if (typeof start === 'function') start();
  return engineBindings;
}

/**
 * @prisma/adapter-pg runs a migration script by splitting it on every `;`, which breaks a
 * migration whose comments, string literals or function bodies contain one. PostgreSQL's
 * simple-query protocol runs a multi-statement script itself (in one implicit transaction
 * unless the script manages its own), so hand it the whole script instead.
 */
class WholeScriptPrismaPg extends PrismaPg {
  constructor(private readonly scriptPool: Pool) {
    super(scriptPool);
  }

  override async connect() {
    const adapter = await super.connect();
    adapter.executeScript = async (script: string): Promise<void> => {
      try {
        await this.scriptPool.query(script);
      } catch (error) {
        // Shaped as the adapter reports a PostgreSQL error, so the engine names the failing
        // migration and the database's message as for any other query.
        if (error instanceof DatabaseError) {
          throw new DriverAdapterError({
            kind: 'postgres',
            code: error.code ?? 'N/A',
            severity: error.severity ?? 'N/A',
            message: error.message,
            detail: error.detail,
            column: error.column,
            hint: error.hint,
          });
        }
        throw error;
      }
    };
    return adapter;
  }
}

function post(message: SchemaEngineWorkerMessage): void {
  parentPort?.postMessage(message);
}

async function run(task: SchemaEngineTask): Promise<unknown> {
  const bindings = loadEngineBindings();
  const datamodels: [string, string][] = [[task.schema.path, task.schema.content]];
  const onLog = (line: string): void => post({ type: 'log', line });
  if (task.kind === 'apply') {
    // We own the pool so we can end it: idle connections would keep the worker alive.
    const pool = new Pool({ connectionString: task.databaseUrl, max: 2 });
    const engine = await bindings.SchemaEngine.new(
      { datamodels },
      onLog,
      bindMigrationAwareSqlAdapterFactory(new WholeScriptPrismaPg(pool)),
    ).catch(async (error: unknown) => {
      await pool.end();
      throw error;
    });
    try {
      return await engine.applyMigrations({ migrationsList: task.migrationsList, filters: noSchemaFilter });
    } finally {
      engine.free();
      await pool.end();
    }
  }
  // `diff` only needs throw-away in-memory PGlite databases (a shadow one to replay the
  // migrations), so creating a migration needs no PostgreSQL server at all. They start
  // lazily: each one runs initdb, and a diff from an empty history needs none.
  const hosts: PGlite[] = [];
  const freshAdapter = async (): Promise<SqlDriverAdapter> => {
    const host = new PGlite();
    hosts.push(host);
    return new PrismaPGlite(host).connect();
  };
  const inMemoryFactory: SqlMigrationAwareDriverAdapterFactory = {
    provider: 'postgres',
    adapterName: 'pglite-in-memory',
    connect: freshAdapter,
    connectToShadowDb: freshAdapter,
  };
  try {
    const engine = await bindings.SchemaEngine.new(
      { datamodels },
      onLog,
      bindMigrationAwareSqlAdapterFactory(inMemoryFactory),
    );
    try {
      return await engine.diff({
        from: task.migrationsList ? { tag: 'migrations', ...task.migrationsList } : { tag: 'empty' },
        to: { tag: 'schemaDatamodel', files: [task.schema] },
        script: true,
        exitCode: null,
        filters: noSchemaFilter,
      });
    } finally {
      engine.free();
    }
  } finally {
    await Promise.all(hosts.map((host) => host.close()));
  }
}

function describeError(error: unknown): { message: string; code?: string; stack?: string } {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as Error & { code?: unknown }).code;
  return {
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(error.stack ? { stack: error.stack } : {}),
  };
}

run(workerData as SchemaEngineTask).then(
  (result) => post({ type: 'result', result }),
  (error: unknown) => post({ type: 'error', error: describeError(error) }),
);
