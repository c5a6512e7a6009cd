/** Discovers the services to run from services/<name>/package.json "quizmesh" fields. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const manifestSchema = z.object({
  appId: z.string().regex(/^[a-z][a-z0-9-]*$/),
  port: z.number().int().min(1).max(65535),
  /** true: owns a PostgreSQL database with prisma/schema.prisma + prisma/migrations */
  database: z.boolean(),
  /** start order: lower first (the gateway goes last so it finds its upstreams) */
  order: z.number().int().default(50),
  /**
   * true: started only once every service before it is ready, sidecar subscriptions included. For
   * a service that sets the platform to work as soon as it runs (the operator publishes its
   * folder's quizzes at once): the events that causes must find their subscribers, and an event
   * published before its consumer's sidecar has subscribed is lost (in-memory and local-network
   * pub/sub keep nothing, and a RabbitMQ queue is declared by its first subscription).
   */
  startsAfterOthersReady: z.boolean().default(false),
  /** extra environment for local runs (never secrets) */
  env: z.record(z.string(), z.string()).default({}),
});

export interface ServiceDefinition extends z.infer<typeof manifestSchema> {
  name: string;
  dir: string;
  entry: string;
  schemaPath: string | undefined;
}

export function discoverServices(repoRoot: string): ServiceDefinition[] {
  const servicesDir = join(repoRoot, 'services');
  const services: ServiceDefinition[] = [];
  for (const name of readdirSync(servicesDir).sort()) {
    const dir = join(servicesDir, name);
    const pkgPath = join(dir, 'package.json');
    if (!existsSync(pkgPath)) continue;
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { quizmesh?: unknown };
    if (pkg.quizmesh === undefined) continue;
    const parsed = manifestSchema.safeParse(pkg.quizmesh);
    if (!parsed.success) {
      throw new Error(
        `services/${name}/package.json "quizmesh": ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    const schemaPath = join(dir, 'prisma', 'schema.prisma');
    if (parsed.data.database && !existsSync(schemaPath)) {
      throw new Error(`services/${name} declares a database but has no prisma/schema.prisma`);
    }
    services.push({
      ...parsed.data,
      name,
      dir,
      entry: join(dir, 'src', 'main.ts'),
      schemaPath: parsed.data.database ? schemaPath : undefined,
    });
  }
  return services.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}
