import request from 'supertest';
import { createTestDatabase, type TestDatabase } from '@quizmesh/platform/testing';
import { applyMigrations, createPrismaClient, disconnectPrismaClient } from '../src/db';
import { createHttpApp, createLogger } from '../src';
import { PrismaClient } from './fixtures/generated/prisma/client';
import { assertFixtureClientGenerated, fixtureSchema } from './db-helpers';

assertFixtureClientGenerated();
jest.setTimeout(60_000);

// A forged cursor or parameter must never become a 500: these are the database errors a
// request's own input can cause, raised by real PostgreSQL through Prisma's driver adapter.
describe('database errors caused by input answer 4xx problem+json', () => {
  let db: TestDatabase;
  let prisma: PrismaClient;

  beforeAll(async () => {
    db = await createTestDatabase('qm_db_errors');
    await applyMigrations({ schemaPath: fixtureSchema, databaseUrl: db.url });
    prisma = createPrismaClient(PrismaClient, { databaseUrl: db.url, poolMax: 2 });
  });
  afterAll(async () => {
    await disconnectPrismaClient(prisma);
    await db.drop();
  });

  const queries: [string, number, () => Promise<unknown>][] = [
    ['a 36-dash "uuid" (22P02)', 400, () => prisma.$queryRaw`SELECT ${'-'.repeat(36)}::uuid`],
    ['year -271821 (22008)', 400, () => prisma.$queryRaw`SELECT ${new Date(-8.64e15)}::timestamptz`],
    ['year 0000 (22008)', 400, () => prisma.$queryRaw`SELECT ${'0000-01-01T00:00:00.000Z'}::timestamptz`],
    ['a malformed timestamp (22007)', 400, () => prisma.$queryRaw`SELECT ${'yesterday-ish'}::timestamptz`],
    ['an integer out of range (22003)', 400, () => prisma.$queryRaw`SELECT ${'99999999999'}::int`],
    ['a NUL in text (22021)', 400, () => prisma.$queryRaw`SELECT ${'a\u0000b'}::text`],
    [
      'a filter on year -271821 through the query builder',
      400,
      () => prisma.item.findMany({ where: { createdAt: { lt: new Date(-8.64e15) } } }),
    ],
    [
      'an invalid Date through the query builder',
      400,
      () => prisma.item.findMany({ where: { createdAt: new Date(NaN) } }),
    ],
    [
      'an update of a row that is not there (P2025)',
      404,
      () => prisma.item.update({ where: { id: 'missing' }, data: { quantity: 1 } }),
    ],
  ];

  it.each(queries)('%s', async (_name, status, query) => {
    const logger = createLogger({ service: 'test', level: 'silent' });
    const app = createHttpApp({
      service: 'test',
      logger,
      routes: (a) =>
        a.get('/probe', async (_req, res) => {
          res.json(await query());
        }),
    });
    const res = await request(app).get('/probe');
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.status).toBe(status);
  });
});
