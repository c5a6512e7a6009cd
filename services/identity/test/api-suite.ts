/**
 * identity's API end to end in-process (see harness.ts), shared by the PostgreSQL and the
 * embedded-PGlite test files so both backends pass the very same behaviour.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hash as argon2Hash } from '@node-rs/argon2';
import request from 'supertest';
import { scoreCalculated, userRenamed, userRegistered } from '@quizmesh/contracts/events';
import {
  registerResponseSchema,
  tokenResponseSchema,
  userListSchema,
  userProfileSchema,
} from '@quizmesh/contracts/identity-api';
import { CALLER_APP_HEADER, USER_ID_HEADER, USER_ROLES_HEADER } from '@quizmesh/platform';
import { CLOUDEVENT_CONTENT_TYPE } from '@quizmesh/platform/outbox';
import { eventually, expectProblem, type TestBackend } from '@quizmesh/platform/testing';
import { rowCounts, startIdentity, uniqueEmail, type IdentityUnderTest } from './harness';

const PASSWORD = 'correct horse battery staple';
const ADMIN_EMAIL = 'root.admin@example.com';

export function identityApiSuite(backend: TestBackend): void {
  let identity: IdentityUnderTest;

  beforeAll(async () => {
    identity = await startIdentity({ backend, env: { IDENTITY_BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL } });
  });
  afterAll(async () => {
    await identity?.stop();
  });

  const api = () => request(identity.url);

  async function register(email = uniqueEmail(), displayName = 'Ada Lovelace', password = PASSWORD) {
    const res = await api().post('/api/v1/auth/register').send({ email, displayName, password });
    expect(res.status).toBe(201);
    return registerResponseSchema.parse(res.body);
  }

  async function refresh(refreshToken: string) {
    return api().post('/api/v1/auth/refresh').send({ refreshToken });
  }

  describe('registration and tokens', () => {
    it('registers a player, signs an ES256 access token verifiable with the JWKS, and publishes user.registered through the outbox', async () => {
      const email = uniqueEmail('ada');
      const res = await api()
        .post('/api/v1/auth/register')
        .set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')
        .send({ email: `  ${email.toUpperCase()} `, displayName: ' Ada ', password: PASSWORD });
      expect(res.status).toBe(201);
      const body = registerResponseSchema.parse(res.body);
      expect(res.headers.location).toBe(`/api/v1/users/${body.user.id}`);
      expect(body.user).toMatchObject({
        email,
        displayName: 'Ada',
        roles: ['player'],
        stats: { attempts: 0, bestScorePercent: null, lastPlayedAt: null },
      });

      const claims = await identity.verifyAccessToken(body.tokens.accessToken);
      expect(claims).toMatchObject({
        iss: 'quizmesh-identity',
        aud: 'quizmesh-api',
        sub: body.user.id,
        roles: ['player'],
      });
      expect(claims.exp - claims.iat).toBe(900);
      expect(claims.nbf).toBe(claims.iat);
      expect(body.tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
      expect(body.tokens.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

      await eventually(() =>
        identity.published.some((p) => (p.event.data as { userId?: string }).userId === body.user.id),
      );
      const delivered = identity.published.find((p) => (p.event.data as { userId?: string }).userId === body.user.id);
      // Marked sent by the relay's next claim (decision 1020), shortly after the publish.
      const row = () => identity.prisma.outboxEvent.findFirstOrThrow({ where: { id: String(delivered?.event.id) } });
      await eventually(async () => (await row()).sentAt !== null);
      expect(delivered?.event).toMatchObject({
        topic: 'user.registered',
        type: userRegistered.type,
        source: 'identity',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      });
      expect(userRegistered.schema.parse(delivered?.event.data)).toMatchObject({
        email,
        displayName: 'Ada',
        roles: ['player'],
      });
    });

    it('keeps user.registered pending while the sidecar is down and publishes it once it is back', async () => {
      await identity.stopSidecar();
      // Registration needs no sidecar: the signing keys are cached and the event waits in the outbox.
      const { user } = await register(uniqueEmail('outage'));
      const row = () =>
        identity.prisma.outboxEvent.findFirstOrThrow({ where: { data: { path: ['userId'], equals: user.id } } });
      await eventually(async () => (await row()).attempts >= 1);
      expect((await row()).sentAt).toBeNull();
      expect((await row()).lastError).toEqual(expect.any(String));

      await identity.restartSidecar();
      await eventually(async () => (await row()).sentAt !== null);
      const deliveredFor = () =>
        identity.published.filter((p) => (p.event.data as { userId?: string }).userId === user.id);
      await eventually(() => deliveredFor().length > 0);
      const delivered = deliveredFor();
      expect(delivered.map((p) => p.event.id)).toEqual([(await row()).id]);
    });

    it('serves only public keys in the JWKS, cacheable', async () => {
      const res = await api().get('/.well-known/jwks.json');
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('public, max-age=300');
      expect(res.body.keys).toHaveLength(1);
      expect(res.body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(res.body.keys[0]).not.toHaveProperty('d');
    });

    it('answers 409 for an email already taken, also in another case and under a race, without extra rows', async () => {
      const email = uniqueEmail('dup');
      await register(email);
      expectProblem(
        await api()
          .post('/api/v1/auth/register')
          .send({ email: email.toUpperCase(), displayName: 'Twin', password: PASSWORD }),
        409,
      );

      const raced = uniqueEmail('race');
      const before = await rowCounts(identity.prisma);
      const results = await Promise.all(
        Array.from({ length: 4 }, () =>
          api().post('/api/v1/auth/register').send({ email: raced, displayName: 'Racer', password: PASSWORD }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
      const after = await rowCounts(identity.prisma);
      expect(after.users - before.users).toBe(1);
      expect(after.refreshTokens - before.refreshTokens).toBe(1);
      expect(after.outbox - before.outbox).toBe(1);
    });

    it('logs in; a wrong password and an unknown email get the same 401', async () => {
      const email = uniqueEmail();
      await register(email);
      const ok = await api().post('/api/v1/auth/login').send({ email, password: PASSWORD });
      expect(ok.status).toBe(200);
      tokenResponseSchema.parse(ok.body);
      const wrong = await api().post('/api/v1/auth/login').send({ email, password: 'not the password' });
      const unknown = await api()
        .post('/api/v1/auth/login')
        .send({ email: uniqueEmail('ghost'), password: PASSWORD });
      expectProblem(wrong, 401);
      expectProblem(unknown, 401);
      expect(wrong.body.detail).toBe(unknown.body.detail);
    });

    it('rotates refresh tokens; reusing a rotated one revokes its whole family but not other devices', async () => {
      const email = uniqueEmail();
      const first = (await register(email)).tokens;
      const otherDevice = tokenResponseSchema.parse(
        (await api().post('/api/v1/auth/login').send({ email, password: PASSWORD })).body,
      );

      const second = await refresh(first.refreshToken);
      expect(second.status).toBe(200);
      const rotated = tokenResponseSchema.parse(second.body);
      expect(rotated.refreshToken).not.toBe(first.refreshToken);
      // Stored as a SHA-256 only: the database never holds a usable token.
      expect(await identity.prisma.refreshToken.count({ where: { tokenHash: rotated.refreshToken } })).toBe(0);
      expect(
        await identity.prisma.refreshToken.count({
          where: { tokenHash: createHash('sha256').update(rotated.refreshToken).digest('hex') },
        }),
      ).toBe(1);

      expectProblem(await refresh(first.refreshToken), 401); // replay of the rotated token
      expectProblem(await refresh(rotated.refreshToken), 401); // its family is gone
      const family = await identity.prisma.refreshToken.findMany({
        where: { user: { email } },
        select: { familyId: true, revokedAt: true },
      });
      const revokedFamilies = new Set(family.filter((t) => t.revokedAt).map((t) => t.familyId));
      expect(revokedFamilies.size).toBe(1);
      expect((await refresh(otherDevice.refreshToken)).status).toBe(200);
    });

    it('lets exactly one of two concurrent refreshes with one token win', async () => {
      const { tokens } = await register();
      const results = await Promise.all([refresh(tokens.refreshToken), refresh(tokens.refreshToken)]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    });

    it('logs out one device, then every device', async () => {
      const email = uniqueEmail();
      const { tokens: phone } = await register(email);
      const laptop = tokenResponseSchema.parse(
        (await api().post('/api/v1/auth/login').send({ email, password: PASSWORD })).body,
      );
      const tablet = tokenResponseSchema.parse(
        (await api().post('/api/v1/auth/login').send({ email, password: PASSWORD })).body,
      );

      expect((await api().post('/api/v1/auth/logout').send({ refreshToken: phone.refreshToken })).status).toBe(204);
      expectProblem(await refresh(phone.refreshToken), 401);
      const laptopNext = tokenResponseSchema.parse((await refresh(laptop.refreshToken)).body);

      expectProblem(await api().post('/api/v1/auth/logout-all'), 401);
      const headers = await identity.asGateway(laptopNext.accessToken);
      expect((await api().post('/api/v1/auth/logout-all').set(headers)).status).toBe(204);
      expectProblem(await refresh(laptopNext.refreshToken), 401);
      expectProblem(await refresh(tablet.refreshToken), 401);
    });
    it('announces tokens.revoked (so the gateway refuses older access tokens) on logout, logout-all, reuse and password change', async () => {
      const revocations = (userId: string) =>
        identity.published
          .filter((p) => p.topic === 'tokens.revoked' && (p.event.data as { userId?: string }).userId === userId)
          .map((p) => p.event.data as { reason: string; notBefore: string });
      const email = uniqueEmail('revoke');
      const { user, tokens: first } = await register(email);
      const before = Date.now();

      expect((await api().post('/api/v1/auth/logout').send({ refreshToken: first.refreshToken })).status).toBe(204);
      await eventually(() => revocations(user.id).some((r) => r.reason === 'logout'));
      const logout = revocations(user.id).find((r) => r.reason === 'logout');
      expect(Date.parse(logout?.notBefore ?? '')).toBeGreaterThanOrEqual(before - 1_000);

      const second = tokenResponseSchema.parse(
        (await api().post('/api/v1/auth/login').send({ email, password: PASSWORD })).body,
      );
      expect((await refresh(second.refreshToken)).status).toBe(200);
      expectProblem(await refresh(second.refreshToken), 401); // reuse: the family is revoked
      await eventually(() => revocations(user.id).some((r) => r.reason === 'family-revoked'));

      const third = tokenResponseSchema.parse(
        (await api().post('/api/v1/auth/login').send({ email, password: PASSWORD })).body,
      );
      const headers = await identity.asGateway(third.accessToken);
      const changed = await api()
        .post('/api/v1/users/me/password')
        .set(headers)
        .send({ currentPassword: PASSWORD, newPassword: 'another horse battery staple' });
      expect(changed.status).toBe(200);
      await eventually(() => revocations(user.id).some((r) => r.reason === 'password-changed'));

      expect((await api().post('/api/v1/auth/logout-all').set(headers)).status).toBe(204);
      await eventually(() => revocations(user.id).some((r) => r.reason === 'logout-all'));
    });
  });

  describe('housekeeping', () => {
    it('rehashes a password stored with older argon2 parameters at the next login, and only then', async () => {
      const email = uniqueEmail('legacy');
      await register(email);
      const legacy = await argon2Hash(PASSWORD, { algorithm: 2, memoryCost: 8_192, timeCost: 1, parallelism: 1 });
      await identity.prisma.user.update({ where: { email }, data: { passwordHash: legacy } });
      const stored = async () => (await identity.prisma.user.findUniqueOrThrow({ where: { email } })).passwordHash;

      expectProblem(await api().post('/api/v1/auth/login').send({ email, password: 'not the password' }), 401);
      expect(await stored()).toBe(legacy); // a failed login changes nothing
      expect((await api().post('/api/v1/auth/login').send({ email, password: PASSWORD })).status).toBe(200);
      const upgraded = await stored();
      expect(upgraded).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      expect((await api().post('/api/v1/auth/login').send({ email, password: PASSWORD })).status).toBe(200);
      expect(await stored()).toBe(upgraded); // current parameters: no second rehash
    });

    it('purges refresh-token families that ended before the retention, keeping live families whole', async () => {
      const { user } = await register(uniqueEmail('purge'));
      const day = 86_400_000;
      const ago = (days: number) => new Date(Date.now() - days * day);
      const token = async (familyId: string, fields: { expiresAt: Date; rotatedAt?: Date; revokedAt?: Date }) => {
        const raw = randomBytes(32).toString('base64url'); // the shape identity issues
        await identity.prisma.refreshToken.create({
          data: { tokenHash: createHash('sha256').update(raw).digest('hex'), familyId, userId: user.id, ...fields },
        });
        return raw;
      };
      const expiredLongAgo = randomUUID();
      await token(expiredLongAgo, { expiresAt: ago(30), rotatedAt: ago(40) });
      await token(expiredLongAgo, { expiresAt: ago(20) });
      const revokedLongAgo = randomUUID();
      await token(revokedLongAgo, { expiresAt: ago(-5), revokedAt: ago(10) });
      const stillLive = randomUUID();
      const oldRotated = await token(stillLive, { expiresAt: ago(30), rotatedAt: ago(40) });
      await token(stillLive, { expiresAt: ago(-3) });
      const endedRecently = randomUUID();
      await token(endedRecently, { expiresAt: ago(1) });

      // What the sidecar's cron binding does on every tick (components/common/schedules.yaml).
      const res = await api().post('/refresh-token-purge');
      expect(res.status).toBe(200);
      expect(res.body.deletedTokens).toBeGreaterThanOrEqual(3);
      const left = await identity.prisma.refreshToken.groupBy({
        by: ['familyId'],
        where: { userId: user.id },
        _count: true,
      });
      const families = new Map(left.map((f) => [f.familyId, f._count]));
      expect(families.has(expiredLongAgo)).toBe(false);
      expect(families.has(revokedLongAgo)).toBe(false);
      expect(families.get(stillLive)).toBe(2);
      expect(families.get(endedRecently)).toBe(1);
      expect(families.size).toBe(3); // and the registration's own family
      // The kept rotated token still gives a reuse away: its family is revoked.
      expectProblem(await refresh(oldRotated), 401);
      expect(await identity.prisma.refreshToken.count({ where: { familyId: stillLive, revokedAt: null } })).toBe(0);
      // Running again finds nothing more of this user's to delete.
      await api().post('/refresh-token-purge').expect(200);
      expect(await identity.prisma.refreshToken.count({ where: { userId: user.id } })).toBe(4);
    });
  });

  describe('profile', () => {
    it('reads and updates the own profile, also through the seed paths', async () => {
      const email = uniqueEmail();
      const seeded = await api().post('/api/users/register').send({ email, displayName: 'Grace', password: PASSWORD });
      expect(seeded.status).toBe(201);
      const login = await api().post('/api/users/login').send({ email, password: PASSWORD });
      const headers = await identity.asGateway(tokenResponseSchema.parse(login.body).accessToken);

      const profile = await api().get('/api/users/profile').set(headers);
      expect(userProfileSchema.parse(profile.body)).toMatchObject({ email, displayName: 'Grace' });
      const patched = await api().patch('/api/v1/users/me').set(headers).send({ displayName: 'مريم 👩‍💻' });
      expect(patched.status).toBe(200);
      expect((await api().get('/api/v1/users/me').set(headers)).body.displayName).toBe('مريم 👩‍💻');
    });

    it('announces a changed display name as user.renamed, once per change, latest time last', async () => {
      const { user, tokens } = await register();
      const headers = await identity.asGateway(tokens.accessToken);
      const changes = () =>
        identity.published
          .filter((p) => p.topic === 'user.renamed' && (p.event.data as { userId?: string }).userId === user.id)
          .map((p) => userRenamed.schema.parse(p.event.data));
      expect((await api().patch('/api/v1/users/me').set(headers).send({ displayName: 'Ada L.' })).status).toBe(200);
      await eventually(() => changes().length === 1);
      // The same name again is no change: nothing is published.
      expect((await api().patch('/api/v1/users/me').set(headers).send({ displayName: 'Ada L.' })).status).toBe(200);
      expect((await api().patch('/api/v1/users/me').set(headers).send({ displayName: 'Ada Lovelace' })).status).toBe(
        200,
      );
      await eventually(() => changes().length === 2);
      const [first, second] = changes().sort((a, b) => a.changedAt.localeCompare(b.changedAt));
      expect(first).toMatchObject({ schemaVersion: 1, userId: user.id, displayName: 'Ada L.' });
      expect(second).toMatchObject({ userId: user.id, displayName: 'Ada Lovelace' });
      expect(Date.parse(second?.changedAt ?? '')).toBeGreaterThan(Date.parse(first?.changedAt ?? ''));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(changes()).toHaveLength(2);
    });

    it('changes nothing and publishes nothing for a refused profile change', async () => {
      const { user, tokens } = await register();
      const headers = await identity.asGateway(tokens.accessToken);
      const before = await rowCounts(identity.prisma);
      for (const body of [
        { displayName: '' },
        { displayName: 'x'.repeat(201) },
        { displayName: 7 },
        { email: 'a@b.c' },
      ]) {
        const res = await api().patch('/api/v1/users/me').set(headers).send(body);
        expectProblem(res, 400);
      }
      expect(await rowCounts(identity.prisma)).toEqual(before);
      expect(
        identity.published.filter(
          (p) => p.topic === 'user.renamed' && (p.event.data as { userId?: string }).userId === user.id,
        ),
      ).toEqual([]);
    });

    it('ignores user headers that did not come from the gateway', async () => {
      const { user } = await register();
      expectProblem(
        await api()
          .get('/api/v1/users/me')
          .set({ [USER_ID_HEADER]: user.id, [USER_ROLES_HEADER]: 'admin' }),
        401,
      );
      expectProblem(
        await api()
          .get('/api/v1/users/me')
          .set({ [CALLER_APP_HEADER]: 'quiz', [USER_ID_HEADER]: user.id, [USER_ROLES_HEADER]: 'admin' }),
        401,
      );
    });

    it('changes the password: the old one and every old session stop working, the new tokens work', async () => {
      const email = uniqueEmail();
      const { tokens } = await register(email);
      const otherDevice = tokenResponseSchema.parse(
        (await api().post('/api/v1/auth/login').send({ email, password: PASSWORD })).body,
      );
      const headers = await identity.asGateway(tokens.accessToken);

      const wrong = await api()
        .post('/api/v1/users/me/password')
        .set(headers)
        .send({ currentPassword: 'wrong password', newPassword: 'a brand new secret' });
      expectProblem(wrong, 400);
      expect(wrong.body.errors).toEqual([{ field: 'body.currentPassword', message: 'is not the current password' }]);

      const changed = await api()
        .post('/api/v1/users/me/password')
        .set(headers)
        .send({ currentPassword: PASSWORD, newPassword: 'a brand new secret' });
      expect(changed.status).toBe(200);
      const fresh = tokenResponseSchema.parse(changed.body);
      expectProblem(await refresh(tokens.refreshToken), 401);
      expectProblem(await refresh(otherDevice.refreshToken), 401);
      expect((await refresh(fresh.refreshToken)).status).toBe(200);
      expectProblem(await api().post('/api/v1/auth/login').send({ email, password: PASSWORD }), 401);
      expect((await api().post('/api/v1/auth/login').send({ email, password: 'a brand new secret' })).status).toBe(200);
    });
  });

  describe('roles', () => {
    let admin: Record<string, string>;
    let adminId: string;

    beforeAll(async () => {
      const registered = await register(` ${ADMIN_EMAIL.toUpperCase()}`, 'Root');
      expect(registered.user.roles).toEqual(['player', 'admin']);
      adminId = registered.user.id;
      admin = await identity.asGateway(registered.tokens.accessToken);
    });

    it('lets a player read only their own account (403 for another, 404 for nobody as admin)', async () => {
      const alice = await register();
      const bob = await register();
      const asAlice = await identity.asGateway(alice.tokens.accessToken);
      expect((await api().get(`/api/v1/users/${alice.user.id}`).set(asAlice)).status).toBe(200);
      expectProblem(await api().get(`/api/v1/users/${bob.user.id}`).set(asAlice), 403);
      expect((await api().get(`/api/v1/users/${bob.user.id}`).set(admin)).body.email).toBe(bob.user.email);
      expectProblem(await api().get('/api/v1/users/00000000-0000-4000-8000-000000000000').set(admin), 404);
      expectProblem(await api().get(`/api/v1/users/${bob.user.id}`), 401);
    });

    it('keeps the admin endpoints to admins', async () => {
      const player = await register();
      const asPlayer = await identity.asGateway(player.tokens.accessToken);
      expectProblem(await api().get('/api/v1/admin/users').set(asPlayer), 403);
      expectProblem(
        await api()
          .put(`/api/v1/admin/users/${player.user.id}/roles`)
          .set(asPlayer)
          .send({ roles: ['admin'] }),
        403,
      );
      expectProblem(await api().get('/api/v1/admin/users'), 401);
    });

    it('pages through every account newest first', async () => {
      for (let i = 0; i < 3; i += 1) await register();
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: request.Response = await api()
          .get('/api/v1/admin/users')
          .query({ limit: 2, ...(cursor ? { cursor } : {}) })
          .set(admin);
        expect(res.status).toBe(200);
        const page = userListSchema.parse(res.body);
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((u) => u.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(await identity.prisma.user.count());
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('changes roles; the next refresh carries them; an admin cannot demote themself', async () => {
      const author = await register();
      const res = await api()
        .put(`/api/v1/admin/users/${author.user.id}/roles`)
        .set(admin)
        .send({ roles: ['player', 'author'] });
      expect(res.status).toBe(200);
      expect(res.body.roles).toEqual(['player', 'author']);
      const next = tokenResponseSchema.parse((await refresh(author.tokens.refreshToken)).body);
      expect((await identity.verifyAccessToken(next.accessToken)).roles).toEqual(['player', 'author']);

      expectProblem(
        await api()
          .put(`/api/v1/admin/users/${adminId}/roles`)
          .set(admin)
          .send({ roles: ['player'] }),
        409,
      );
      expectProblem(
        await api()
          .put('/api/v1/admin/users/00000000-0000-4000-8000-000000000000/roles')
          .set(admin)
          .send({ roles: ['player'] }),
        404,
      );
    });
  });

  describe('player stats from score.calculated', () => {
    async function publishScore(id: string, data: Record<string, unknown>) {
      await identity.runtime.dapr.publish(
        'pubsub',
        scoreCalculated.topic,
        {
          specversion: '1.0',
          id,
          source: 'evaluation',
          type: scoreCalculated.type,
          datacontenttype: 'application/json',
          data,
        },
        { contentType: CLOUDEVENT_CONTENT_TYPE },
      );
    }
    const score = (userId: string, n: number, points: number, finishedAt: string) => ({
      schemaVersion: 1,
      attemptId: `10000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      quizId: '20000000-0000-4000-8000-000000000001',
      userId,
      score: points,
      maxScore: 8,
      correctCount: points,
      questionCount: 8,
      finishedAt,
      calculatedAt: finishedAt,
    });

    it('counts each event once, keeps the best score and the latest play, and shows them on the profile', async () => {
      const { user, tokens } = await register();
      const processed = () => identity.prisma.processedEvent.count({ where: { consumer: 'identity.player-stats' } });
      const before = await processed();
      await publishScore(`${user.id}-e1`, score(user.id, 1, 6, '2026-11-20T10:00:00.000Z'));
      await publishScore(`${user.id}-e1`, score(user.id, 1, 6, '2026-11-20T10:00:00.000Z')); // redelivery
      await publishScore(`${user.id}-e2`, score(user.id, 2, 3, '2026-11-19T10:00:00.000Z')); // older, worse
      await publishScore(`${user.id}-bad`, { ...score(user.id, 3, 9, '2026-11-21T10:00:00.000Z') }); // score > max: dropped
      await eventually(async () => (await processed()) - before === 2);
      // The dropped event never reaches the handler; give the redelivery a chance to be (not) counted.
      await eventually(
        async () => (await identity.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).attemptsCount === 2,
      );

      const profile = await api()
        .get('/api/v1/users/me')
        .set(await identity.asGateway(tokens.accessToken));
      expect(profile.body.stats).toEqual({
        attempts: 2,
        bestScorePercent: 75,
        lastPlayedAt: '2026-11-20T10:00:00.000Z',
      });

      // The event that broke the contract went to the dead-letter topic, where an admin finds it.
      const asAdmin = { [CALLER_APP_HEADER]: 'gateway', [USER_ID_HEADER]: randomUUID(), [USER_ROLES_HEADER]: 'admin' };
      const deadLetters = async () =>
        (await api().get('/api/v1/admin/dead-letters').query({ topic: 'score.calculated' }).set(asAdmin)).body as {
          items: Array<{ eventId: string; topic: string }>;
        };
      await eventually(async () => (await deadLetters()).items.some((d) => d.eventId === `${user.id}-bad`));
      expect((await deadLetters()).items.find((d) => d.eventId === `${user.id}-bad`)).toMatchObject({
        topic: 'score.calculated',
      });
    });
  });

  describe('logs', () => {
    it('never contain passwords or tokens', async () => {
      const email = uniqueEmail('logs');
      const password = 'Sup3r-secret-log-probe';
      const { tokens } = await register(email, 'Logger', password);
      const login = tokenResponseSchema.parse((await api().post('/api/v1/auth/login').send({ email, password })).body);
      const rotated = tokenResponseSchema.parse((await refresh(login.refreshToken)).body);
      await refresh(login.refreshToken); // reuse: logged as a warning
      await api()
        .post('/api/v1/auth/login')
        .send({ email, password: `${password}-wrong` });
      const text = identity.logLines.join('\n');
      expect(identity.logLines.length).toBeGreaterThan(5);
      expect(text).toContain('refresh token reused');
      for (const secret of [
        password,
        tokens.accessToken,
        tokens.refreshToken,
        login.accessToken,
        login.refreshToken,
        rotated.accessToken,
        rotated.refreshToken,
      ]) {
        expect(text).not.toContain(secret);
      }
      expect(text).not.toContain('-----BEGIN');
    });
  });
}
