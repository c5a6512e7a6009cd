/**
 * The outbox against real PostgreSQL and a real Prisma 7 client: enqueue inside the caller's
 * transaction, the relay's claim/publish/mark cycle, back-off while the sidecar is down, two
 * relays sharing one table, and idempotent consumption.
 */
import { pino } from 'pino';
import { Dapr, GracefulShutdown } from '@quizmesh/platform';
import { applyMigrations } from '@quizmesh/platform/db';
import { createTestDatabase, eventually, type TestDatabase } from '@quizmesh/platform/testing';
import {
  consumeOnce,
  enqueue,
  enqueueAll,
  outboxEvent,
  outboxInsert,
  startOutboxRelay,
  type OutboxRelay,
  type OutboxSql,
} from '@quizmesh/platform/outbox';
import { scoreCalculated, userRegistered } from '@quizmesh/contracts/events';
import { createFixtureClient, fixtureSchema, type FixtureClient } from './fixture';
import { FakeDaprPublishEndpoint } from './fake-dapr';

const logger = pino({ level: 'silent' });
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

let db: TestDatabase;
let prisma: FixtureClient;
let sidecar: FakeDaprPublishEndpoint;
let dapr: Dapr;
const relays: OutboxRelay[] = [];

function registered(n: number) {
  return {
    schemaVersion: 1 as const,
    userId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    email: `user${n}@example.com`,
    displayName: `User ${n}`,
    roles: ['player' as const],
    registeredAt: '2026-01-01T00:00:00.000Z',
  };
}

function relay(overrides: Partial<Parameters<typeof startOutboxRelay>[0]> = {}): OutboxRelay {
  const started = startOutboxRelay({
    prisma,
    dapr,
    pubsub: 'pubsub',
    logger,
    source: 'identity',
    intervalMs: 20,
    backoff: { baseMs: 50, maxMs: 200 },
    ...overrides,
  });
  relays.push(started);
  return started;
}

async function pendingCount(): Promise<number> {
  const [row] = await prisma.$queryRawUnsafe<Array<{ n: number }>>(
    `SELECT count(*)::int AS n FROM "OutboxEvent" WHERE "sentAt" IS NULL`,
  );
  return row?.n ?? -1;
}

beforeAll(async () => {
  db = await createTestDatabase('qm_outbox');
  await applyMigrations({ schemaPath: fixtureSchema, databaseUrl: db.url });
  prisma = createFixtureClient(db.url);
  sidecar = await new FakeDaprPublishEndpoint().start(0);
  dapr = new Dapr({ host: '127.0.0.1', httpPort: sidecar.port });
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()));
  await prisma.$executeRawUnsafe(`TRUNCATE "OutboxEvent", "ProcessedEvent", "Note"`);
  sidecar.published.length = 0;
  sidecar.failWith = undefined;
  sidecar.failFor = undefined;
  sidecar.delayMs = 0;
  sidecar.maxInFlight = 0;
});

afterAll(async () => {
  await prisma?.$disconnect();
  await dapr?.close();
  await sidecar?.stop();
  await db?.drop();
});

describe('enqueue', () => {
  it('writes nothing when the caller rolls back, so nothing is published', async () => {
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`INSERT INTO "Note" ("text") VALUES ('half-written')`);
        await enqueue(tx, userRegistered, registered(1));
        throw new Error('business rule failed after the event was enqueued');
      }),
    ).rejects.toThrow('business rule failed');
    expect(await pendingCount()).toBe(0);
    await relay().runOnce();
    expect(sidecar.published).toHaveLength(0);
  });

  it('rejects data that does not match the contract before writing anything', async () => {
    const bad = { ...registered(2), email: 'not-an-email' };
    await expect(prisma.$transaction((tx) => enqueue(tx, userRegistered, bad))).rejects.toThrow(
      /user\.registered does not match its contract: email/,
    );
    expect(await pendingCount()).toBe(0);
  });

  it('writes several events in one statement (enqueueAll), each published once with its own id', async () => {
    const rows = [1, 2, 3].map((n) => outboxEvent(userRegistered, registered(n), { traceparent: TRACEPARENT }));
    await prisma.$transaction((tx) => enqueueAll(tx, rows));
    expect(await pendingCount()).toBe(3);
    relay({ intervalMs: 60_000 }).wake();
    await eventually(() => sidecar.published.length === 3);
    expect(sidecar.published.map((p) => p.event.id).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(sidecar.published.map((p) => (p.event.data as { email: string }).email).sort()).toEqual([
      'user1@example.com',
      'user2@example.com',
      'user3@example.com',
    ]);
  });

  it('as a step of a larger statement, writes the event exactly when the change happens', async () => {
    const insertNoteAndEvent = async (text: string, n: number) => {
      const insert = outboxInsert([outboxEvent(userRegistered, registered(n))], 2);
      await prisma.$executeRawUnsafe(
        `WITH note AS (INSERT INTO "Note" ("text") SELECT $1 WHERE $1 <> 'skip' RETURNING 1)
         ${insert.sql} WHERE EXISTS (SELECT 1 FROM note)`,
        text,
        ...insert.values,
      );
    };
    await insertNoteAndEvent('kept', 1);
    await insertNoteAndEvent('skip', 2);
    expect(await pendingCount()).toBe(1);
  });

  it('checks every event against its contract before anything is written', async () => {
    expect(() => outboxEvent(userRegistered, { ...registered(3), email: 'not-an-email' })).toThrow(
      /user\.registered does not match its contract: email/,
    );
  });
});

describe('relay', () => {
  it('publishes each committed row once as a CloudEvent whose id is the row id, carrying the trace', async () => {
    const id = await prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`INSERT INTO "Note" ("text") VALUES ('user row')`);
      return enqueue(tx, userRegistered, registered(3), { traceparent: TRACEPARENT });
    });
    const r = relay({ intervalMs: 60_000 });
    r.wake();
    await eventually(() => sidecar.published.length === 1);
    await r.runOnce();
    await r.runOnce();
    expect(sidecar.published).toHaveLength(1);
    const [published] = sidecar.published;
    expect(published).toMatchObject({ pubsub: 'pubsub', topic: 'user.registered' });
    expect(published?.contentType).toMatch(/^application\/cloudevents\+json/);
    expect(published?.event).toMatchObject({
      specversion: '1.0',
      id,
      source: 'identity',
      type: 'dev.quizmesh.user.registered.v1',
      datacontenttype: 'application/json',
      traceparent: TRACEPARENT,
      traceid: TRACEPARENT,
      data: registered(3),
    });
    expect(await pendingCount()).toBe(0);
  });

  it('keeps rows pending while the sidecar is down and publishes them when it is back', async () => {
    // The SDK probes the sidecar once before its first call: make that happen while it is up.
    await prisma.$transaction((tx) => enqueue(tx, userRegistered, registered(4)));
    const first = relay({ intervalMs: 60_000 });
    await eventually(() => sidecar.published.length === 1);
    await first.stop();

    const port = sidecar.port;
    await sidecar.stop();
    const ids = await prisma.$transaction(async (tx) => [
      await enqueue(tx, userRegistered, registered(5)),
      await enqueue(tx, userRegistered, registered(6)),
    ]);
    const r = relay();
    await eventually(async () => {
      const [row] = await prisma.$queryRawUnsafe<Array<{ attempts: number; lastError: string | null }>>(
        `SELECT "attempts", "lastError" FROM "OutboxEvent" WHERE "id" = $1::uuid`,
        ids[0],
      );
      return (row?.attempts ?? 0) >= 2 && row?.lastError !== null;
    });
    expect(await pendingCount()).toBe(2);
    expect(sidecar.published).toHaveLength(1);

    await sidecar.start(port);
    await eventually(async () => (await pendingCount()) === 0);
    await r.stop();
    expect(
      sidecar.published
        .slice(1)
        .map((p) => p.event.id)
        .sort(),
    ).toEqual([...ids].sort());
  });

  it('treats a broker error answer like an outage: pending, retried, then sent', async () => {
    sidecar.failWith = 500;
    const id = await prisma.$transaction((tx) => enqueue(tx, userRegistered, registered(7)));
    const r = relay();
    await eventually(async () => {
      const [row] = await prisma.$queryRawUnsafe<Array<{ attempts: number }>>(
        `SELECT "attempts" FROM "OutboxEvent" WHERE "id" = $1::uuid`,
        id,
      );
      return (row?.attempts ?? 0) >= 1;
    });
    expect(sidecar.published).toHaveLength(0);
    sidecar.failWith = undefined;
    await eventually(async () => (await pendingCount()) === 0);
    await r.stop();
    expect(sidecar.published.map((p) => p.event.id)).toEqual([id]);
  });

  it('publishes a batch concurrently, bounded, and backs off only the rows whose publish failed', async () => {
    const ids = await prisma.$transaction(async (tx) => {
      const out: string[] = [];
      for (let i = 0; i < 12; i += 1) out.push(await enqueue(tx, userRegistered, registered(200 + i)));
      return out;
    });
    const poison = ids[5];
    sidecar.delayMs = 50;
    sidecar.failFor = (event) => event.id === poison;
    const r = relay({
      intervalMs: 60_000,
      leaseMs: 1_000,
      publishConcurrency: 4,
      backoff: { baseMs: 60_000, maxMs: 60_000 },
    });
    await eventually(async () => (await pendingCount()) === 1);
    await r.stop();

    expect(sidecar.maxInFlight).toBeGreaterThan(1);
    expect(sidecar.maxInFlight).toBeLessThanOrEqual(4);
    expect(sidecar.published.map((p) => p.event.id).sort()).toEqual(ids.filter((id) => id !== poison).sort());
    const [row] = await prisma.$queryRawUnsafe<
      Array<{ attempts: number; lastError: string | null; sentAt: Date | null; waitMs: number }>
    >(
      `SELECT "attempts", "lastError", "sentAt", (extract(epoch from "availableAt" - now()) * 1000)::float8 AS "waitMs"
       FROM "OutboxEvent" WHERE "id" = $1::uuid`,
      poison,
    );
    expect(row).toMatchObject({ attempts: 1, sentAt: null });
    expect(row?.lastError).toMatch(/broker unavailable|500/);
    expect(row?.waitMs).toBeGreaterThan(30_000); // its own back-off (base 60 s), not a lease
  });

  it("marks what a round published with the next round's claim: one statement per event at a low rate", async () => {
    const statements: string[] = [];
    const counted: OutboxSql = {
      $queryRawUnsafe: (sql: string, ...values: unknown[]) => {
        statements.push(sql);
        return prisma.$queryRawUnsafe(sql, ...values);
      },
      $executeRawUnsafe: (sql: string, ...values: unknown[]) => {
        statements.push(sql);
        return prisma.$executeRawUnsafe(sql, ...values);
      },
    } as OutboxSql;
    const r = relay({ prisma: counted, intervalMs: 60_000 });
    const ids: string[] = [];
    for (let n = 0; n < 3; n += 1) {
      ids.push(await prisma.$transaction((tx) => enqueue(tx, userRegistered, registered(300 + n))));
      r.wake();
      await eventually(() => sidecar.published.length === n + 1);
    }
    // The last one is marked by the claim an idle relay makes within a second, not at the next poll (60 s).
    await eventually(async () => (await pendingCount()) === 0, { timeoutMs: 5_000 });
    expect(sidecar.published.map((p) => p.event.id)).toEqual(ids);
    const separateMarks = statements.filter((sql) => /^\s*UPDATE "OutboxEvent" SET "sentAt"/.test(sql));
    expect(separateMarks).toEqual([]);
    await r.stop();
    expect(sidecar.published).toHaveLength(3);
  });

  it('marks at stop what the last round published', async () => {
    const id = await prisma.$transaction((tx) => enqueue(tx, userRegistered, registered(310)));
    const r = relay({ intervalMs: 60_000 });
    await eventually(() => sidecar.published.length === 1);
    await r.stop();
    expect(await pendingCount()).toBe(0);
    expect(sidecar.published.map((p) => p.event.id)).toEqual([id]);
  });

  it('never publishes a row twice when two relays share the table', async () => {
    const ids: string[] = [];
    for (let batch = 0; batch < 4; batch += 1) {
      ids.push(
        ...(await prisma.$transaction(async (tx) => {
          const out: string[] = [];
          for (let i = 0; i < 25; i += 1) out.push(await enqueue(tx, userRegistered, registered(batch * 100 + i)));
          return out;
        })),
      );
    }
    const a = relay({ batchSize: 7 });
    const b = relay({ batchSize: 7 });
    await eventually(async () => (await pendingCount()) === 0);
    await Promise.all([a.stop(), b.stop()]);
    const publishedIds = sidecar.published.map((p) => String(p.event.id));
    expect(publishedIds).toHaveLength(ids.length);
    expect(new Set(publishedIds).size).toBe(ids.length);
    expect(new Set(publishedIds)).toEqual(new Set(ids));
  });

  it('stops with the service: graceful shutdown ends the relay before later cleanups run', async () => {
    const order: string[] = [];
    const shutdown = new GracefulShutdown({ logger, timeoutMs: 10_000, exit: () => undefined });
    shutdown.onShutdown('database', () => {
      order.push('database');
    });
    const r = relay({ shutdown });
    const stop = r.stop.bind(r);
    r.stop = async () => {
      await stop();
      order.push('relay');
    };
    expect(await shutdown.shutdown()).toBe(0);
    await r.stop();
    expect(order.slice(0, 2)).toEqual(['relay', 'database']);
    await prisma.$transaction((tx) => enqueue(tx, userRegistered, registered(9)));
    r.wake();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await pendingCount()).toBe(1);
  });

  it('stops cleanly: no round runs after stop() resolved', async () => {
    const r = relay();
    await r.stop();
    await prisma.$transaction((tx) => enqueue(tx, userRegistered, registered(8)));
    r.wake();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await pendingCount()).toBe(1);
    expect(sidecar.published).toHaveLength(0);
  });
});

describe('consumeOnce', () => {
  const event = {
    schemaVersion: 1 as const,
    attemptId: '10000000-0000-4000-8000-000000000001',
    quizId: '20000000-0000-4000-8000-000000000001',
    userId: '00000000-0000-4000-8000-000000000001',
    score: 7,
    maxScore: 10,
    correctCount: 7,
    questionCount: 10,
    finishedAt: '2026-01-01T00:00:00.000Z',
    calculatedAt: '2026-01-01T00:00:01.000Z',
  };

  async function applyScore(eventId: string): Promise<boolean> {
    return prisma.$transaction(async (tx) => {
      if (!(await consumeOnce(tx, 'identity.player-stats', eventId))) return false;
      scoreCalculated.schema.parse(event);
      await tx.$executeRawUnsafe(`INSERT INTO "Note" ("text") VALUES ($1)`, `scored ${eventId}`);
      return true;
    });
  }

  it('applies an event once per consumer, however often it is delivered', async () => {
    expect(await applyScore('evt-1')).toBe(true);
    expect(await applyScore('evt-1')).toBe(false);
    expect(await applyScore('evt-2')).toBe(true);
    expect(await prisma.$transaction((tx) => consumeOnce(tx, 'notification.result-mail', 'evt-1'))).toBe(true);
    const notes = await prisma.$queryRawUnsafe<Array<{ text: string }>>(`SELECT "text" FROM "Note" ORDER BY "id"`);
    expect(notes.map((n) => n.text)).toEqual(['scored evt-1', 'scored evt-2']);
  });

  it('lets exactly one of two concurrent deliveries win', async () => {
    const outcomes = await Promise.all([applyScore('evt-race'), applyScore('evt-race')]);
    expect(outcomes.sort()).toEqual([false, true]);
  });

  it('forgets the mark when the effect rolls back, so the redelivery is applied', async () => {
    await expect(
      prisma.$transaction(async (tx) => {
        await consumeOnce(tx, 'identity.player-stats', 'evt-fail');
        throw new Error('effect failed');
      }),
    ).rejects.toThrow('effect failed');
    expect(await applyScore('evt-fail')).toBe(true);
  });
});
