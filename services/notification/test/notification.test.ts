/**
 * notification through the real local sidecar, on state.in-memory and state.redis: events in
 * (in-memory pub/sub), mail out (bindings.smtp into a mailbox folder), the inbox API, and the
 * dead-letter store for its own topics.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { attemptFailed, notificationCreated, scoreCalculated, userRegistered } from '@quizmesh/contracts/events';
import { notificationListSchema, notificationSchema, readAllResultSchema } from '@quizmesh/contracts/notification-api';
import { deadLetterListSchema } from '@quizmesh/platform/deadletters';
import { eventually } from '@quizmesh/platform/testing';
import { NotificationStore, notificationIdOf, type InboxEntry } from '../src/inbox';
import { startNotification, SUBSCRIPTIONS_FILE, type NotificationUnderTest, type StateBackend } from './harness';

const problemSchema = z.object({
  status: z.number(),
  detail: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

const MAILED = 'notification mailed';
const ALREADY = 'notification already handled';
const MAIL_DONE = { mail: 'done', claimedAt: null };
const NO_ADDRESS = 'no email address known for this user (no user.registered seen); inbox only, mail skipped';

let counter = 0;
function newUser() {
  counter += 1;
  const userId = randomUUID();
  return {
    userId,
    email: `player.${process.pid}.${counter}@example.com`,
    displayName: `Player ${counter}`,
  };
}

const registered = (user: ReturnType<typeof newUser>) => ({
  schemaVersion: 1,
  userId: user.userId,
  email: user.email,
  displayName: user.displayName,
  roles: ['player'],
  registeredAt: '2026-05-01T10:00:00.000Z',
});

const scored = (userId: string, score = 7, maxScore = 10) => ({
  schemaVersion: 1,
  attemptId: randomUUID(),
  quizId: randomUUID(),
  userId,
  score,
  maxScore,
  correctCount: 7,
  questionCount: 10,
  finishedAt: '2026-05-01T10:05:00.000Z',
  calculatedAt: '2026-05-01T10:05:01.000Z',
  quizTitle: 'Capitals of Europe',
});

describe.each<StateBackend>(['state.in-memory', 'state.redis'])('notification on %s', (backend) => {
  let svc: NotificationUnderTest;

  beforeAll(async () => {
    svc = await startNotification(backend);
  });

  afterAll(async () => {
    await svc?.stop();
  });

  async function inbox(userId: string, query = '') {
    const res = await svc.call('GET', `/api/v1/notifications${query}`, userId);
    expect(res.status).toBe(200);
    return notificationListSchema.parse(res.json);
  }

  const pushedFor = (userId: string) =>
    svc.pushed
      .map((event) => notificationCreated.schema.parse(event.data))
      .filter((data) => data.userId === userId)
      .map((data) => ({ ...data }));

  const mailsTo = (email: string) => svc.mails().filter((m) => m.to === email);

  /** Registers `user` and waits until the welcome mail went out. */
  async function register(user: ReturnType<typeof newUser>) {
    const id = randomUUID();
    await svc.publish(userRegistered, id, registered(user));
    await svc.handled(id, MAILED);
  }

  it('serves exactly the subscriptions declared in components/common (topics and dead-letter topics)', () => {
    const yaml = readFileSync(SUBSCRIPTIONS_FILE, 'utf8');
    const declared = [...yaml.matchAll(/^ {2}topic: (\S+)$/gm)].map((m) => m[1]);
    const routes = [...yaml.matchAll(/^ {4}default: (\S+)$/gm)].map((m) => m[1]);
    const served = svc.runtime.subscriptions.list();
    expect(served.map((s) => s.topic).sort()).toEqual([...declared].sort());
    expect(served.map((s) => s.route).sort()).toEqual([...routes].sort());
    expect(served.every((s) => s.pubsubname === 'pubsub')).toBe(true);
  });

  it('user.registered → one welcome mail and one unread inbox message', async () => {
    const user = newUser();
    await register(user);

    const mails = mailsTo(user.email);
    expect(mails.map((m) => m.subject)).toEqual(['Welcome to Quizmesh']);
    expect(mails[0]?.text).toContain(`Hi ${user.displayName},`);
    const page = await inbox(user.userId);
    expect(page.unreadCount).toBe(1);
    expect(page.items).toEqual([
      expect.objectContaining({
        kind: 'welcome',
        title: 'Welcome to Quizmesh',
        readAt: null,
        quizId: null,
        attemptId: null,
      }),
    ]);
  });

  it('score.calculated → one result mail with quiz and score/maxScore, and one inbox message', async () => {
    const user = newUser();
    await register(user);
    const event = scored(user.userId, 7.5, 10);
    const id = randomUUID();
    await svc.publish(scoreCalculated, id, event);
    await svc.handled(id, MAILED);

    const result = mailsTo(user.email).filter((m) => m.subject !== 'Welcome to Quizmesh');
    expect(result.map((m) => m.subject)).toEqual(['Your quiz result: 7.5/10 (75%)']);
    expect(result[0]?.text).toContain('7.5 of 10 points (75%)');
    // Named by its title (when score.calculated carries it), never by its id.
    expect(result[0]?.text).toContain('your attempt at "Capitals of Europe" has been scored');
    expect(result[0]?.html).not.toContain(event.quizId);
    const [newest] = (await inbox(user.userId)).items;
    expect(newest).toMatchObject({ kind: 'result', quizId: event.quizId, attemptId: event.attemptId, readAt: null });
  });

  it('mails an HTML document (what Dapr’s bindings.smtp sends) whose text is the message, user text escaped', async () => {
    const user = { ...newUser(), displayName: '<img src=x onerror=alert(1)> & "Bob"' };
    await register(user);
    const event = { ...scored(user.userId, 3, 4), quizTitle: 'Tags <b>bold</b> & more' };
    const id = randomUUID();
    await svc.publish(scoreCalculated, id, event);
    await svc.handled(id, MAILED);

    const [welcome, result] = mailsTo(user.email);
    for (const mail of [welcome, result]) {
      expect(mail?.contentType).toMatch(/^text\/html; charset=utf-8$/i);
      expect(mail?.html).toMatch(/^<!doctype html>\n<html lang="en">/);
      // Markup from users arrives as text, never as markup.
      expect(mail?.html).not.toMatch(/<img|<b>/);
      expect(mail?.text).toContain(`Hi ${user.displayName},`);
    }
    expect(result?.html).toContain('&lt;b&gt;bold&lt;/b&gt; &amp; more');
    expect(result?.text).toContain('your attempt at "Tags <b>bold</b> & more" has been scored: 3 of 4 points (75%),');
    // Line breaks and paragraphs of the message survive (an HTML reader would join unmarked lines).
    const [newest] = (await inbox(user.userId)).items;
    expect(result?.text).toBe(newest?.body);
  });

  it('attempt.failed → one apology mail naming the quiz and the reason, and one inbox message', async () => {
    const user = newUser();
    await register(user);
    const id = randomUUID();
    const event = {
      schemaVersion: 1,
      attemptId: randomUUID(),
      quizId: randomUUID(),
      quizVersion: 3,
      quizTitle: 'Capitals of Europe',
      userId: user.userId,
      reason: 'scoring was unavailable for too long',
      submittedAt: '2026-05-01T10:05:00.000Z',
      failedAt: '2026-05-01T10:06:00.000Z',
    };
    await svc.publish(attemptFailed, id, event);
    await svc.handled(id, MAILED);

    const apology = mailsTo(user.email).filter((m) => m.subject === 'We could not score your quiz attempt');
    expect(apology).toHaveLength(1);
    expect(apology[0]?.text).toContain('your attempt at "Capitals of Europe" could not be scored');
    expect(apology[0]?.text).toContain(`What happened: ${event.reason}`);
    const [newest] = (await inbox(user.userId)).items;
    expect(newest).toMatchObject({ kind: 'attempt-failed', attemptId: event.attemptId });
    expect(newest?.body).toContain(event.reason);
  });

  it('the same event twice → one mail and one inbox message', async () => {
    const user = newUser();
    const welcomeId = randomUUID();
    await svc.publish(userRegistered, welcomeId, registered(user));
    await svc.publish(userRegistered, welcomeId, registered(user));
    const scoreId = randomUUID();
    const event = scored(user.userId);
    await svc.publish(scoreCalculated, scoreId, event);
    await svc.publish(scoreCalculated, scoreId, event);
    await svc.handled(welcomeId, ALREADY);
    await svc.handled(scoreId, ALREADY);

    expect(
      mailsTo(user.email)
        .map((m) => m.subject)
        .sort(),
    ).toEqual(['Welcome to Quizmesh', 'Your quiz result: 7/10 (70%)']);
    const page = await inbox(user.userId);
    expect(page.items.map((n) => n.kind)).toEqual(['result', 'welcome']);
    expect(page.unreadCount).toBe(2);
    // One live-push event per new message, carrying the inbox message.
    await eventually(() => pushedFor(user.userId).length === 2);
    expect(pushedFor(user.userId).sort((a, b) => String(a.kind).localeCompare(String(b.kind)))).toEqual(
      [...page.items]
        .sort((a, b) => a.kind.localeCompare(b.kind))
        .map((n) => ({
          schemaVersion: 1,
          notificationId: n.id,
          userId: user.userId,
          kind: n.kind,
          title: n.title,
          body: n.body,
          createdAt: n.createdAt,
        })),
    );
  });

  /** Every message of `userId`'s inbox as the state store holds it: the head's, then its segments'. */
  async function storedInbox(userId: string) {
    type Stored = { entries: Array<Record<string, unknown>>; segments?: Array<{ n: number }> };
    const store = svc.config.STATE_STORE_NAME;
    const head = await svc.runtime.dapr.getState<Stored>(store, NotificationStore.headKey(userId));
    if (!head) return undefined;
    const entries = [...head.entries];
    for (const { n } of head.segments ?? []) {
      entries.push(...((await svc.runtime.dapr.getState<Stored>(store, `inbox:${userId}:${n}`))?.entries ?? []));
    }
    return { entries };
  }
  const storedMail = (notificationId: string) =>
    svc.runtime.dapr.getState(svc.config.STATE_STORE_NAME, NotificationStore.mailKey(notificationId));
  const storeInbox = (userId: string, entries: Array<Record<string, unknown>>) =>
    svc.runtime.dapr.saveState(svc.config.STATE_STORE_NAME, [{ key: `inbox:${userId}`, value: { entries } }]);
  /** an inbox entry of a score.calculated event, as stored */
  const storedEntry = (eventId: string, extra: Record<string, unknown> = {}) => ({
    id: notificationIdOf(scoreCalculated.topic, eventId),
    eventId,
    topic: scoreCalculated.topic,
    kind: 'result',
    title: 'Your quiz result: 7/10 (70%)',
    body: 'Hi,\n\nyou scored 7/10.',
    createdAt: '2026-05-01T10:05:02.000Z',
    readAt: null,
    quizId: null,
    attemptId: null,
    ...extra,
  });

  it('a mailed message leaves the message and its mail record, done: no mail state in the inbox', async () => {
    const user = newUser();
    await register(user);
    const id = randomUUID();
    await svc.publish(scoreCalculated, id, scored(user.userId));
    await svc.handled(id, MAILED);

    const stored = await storedInbox(user.userId);
    expect(stored?.entries).toHaveLength(2);
    for (const entry of stored?.entries ?? []) {
      expect(entry).not.toHaveProperty('mail');
      expect(entry).not.toHaveProperty('mailClaimedAt');
    }
    expect(await storedMail(notificationIdOf(scoreCalculated.topic, id))).toEqual(MAIL_DONE);
  });

  it('an inbox stored with mail states in its entries (older versions) mails what was still to send, once', async () => {
    const user = newUser();
    await register(user);
    const [pendingId, sentId] = [randomUUID(), randomUUID()];
    await storeInbox(user.userId, [
      storedEntry(pendingId, { mail: 'pending', mailClaimedAt: null }),
      storedEntry(sentId, { mail: 'sent', mailClaimedAt: null }),
    ]);
    const results = () => mailsTo(user.email).filter((m) => m.subject === 'Your quiz result: 7/10 (70%)');

    await svc.publish(scoreCalculated, pendingId, scored(user.userId));
    await svc.handled(pendingId, MAILED);
    await svc.publish(scoreCalculated, sentId, scored(user.userId));
    await svc.handled(sentId, ALREADY);
    await svc.publish(scoreCalculated, pendingId, scored(user.userId));
    await svc.handled(pendingId, ALREADY);

    expect(results()).toHaveLength(1);
    const stored = await storedInbox(user.userId);
    expect(stored?.entries.find((e) => e.eventId === pendingId)).not.toHaveProperty('mail');
    // the welcome message (moved inbox) and the two of the single document, merged
    expect((await inbox(user.userId)).items).toHaveLength(3);
  });

  it('a mail claim older than the lease (its delivery crashed) is taken over and mailed once', async () => {
    const user = newUser();
    await register(user);
    const id = randomUUID();
    await storeInbox(user.userId, [storedEntry(id)]);
    const notificationId = notificationIdOf(scoreCalculated.topic, id);
    await svc.runtime.dapr.saveState(svc.config.STATE_STORE_NAME, [
      {
        key: NotificationStore.mailKey(notificationId),
        value: { mail: 'sending', claimedAt: '2026-05-01T10:05:02.000Z' },
      },
    ]);

    await svc.publish(scoreCalculated, id, scored(user.userId));
    await svc.handled(id, MAILED);
    await svc.publish(scoreCalculated, id, scored(user.userId));
    await svc.handled(id, ALREADY);

    expect(mailsTo(user.email).filter((m) => m.subject === 'Your quiz result: 7/10 (70%)')).toHaveLength(1);
    expect(await storedMail(notificationId)).toEqual(MAIL_DONE);
    // the welcome message and the one of the single document, merged
    expect((await inbox(user.userId)).items).toHaveLength(2);
  });

  it('a score for an unknown user is kept in the inbox, the mail skipped and logged', async () => {
    const stranger = newUser();
    const id = randomUUID();
    const before = svc.mails().length;
    await svc.publish(scoreCalculated, id, scored(stranger.userId));
    await svc.handled(id, NO_ADDRESS);

    expect(svc.mails()).toHaveLength(before);
    const page = await inbox(stranger.userId);
    expect(page.items).toEqual([expect.objectContaining({ kind: 'result', title: 'Your quiz result: 7/10 (70%)' })]);
    // Without a known display name the greeting stays neutral.
    expect(page.items[0]?.body.startsWith('Hi,\n')).toBe(true);
  });

  it('pages the inbox newest first, counts unread, marks read and read-all; the inbox keeps its limit', async () => {
    const user = newUser();
    await register(user);
    const scores: string[] = [];
    for (let n = 1; n <= 5; n += 1) {
      const id = randomUUID();
      await svc.publish(scoreCalculated, id, scored(user.userId, n, 10));
      await svc.handled(id, MAILED);
      scores.push(`Your quiz result: ${n}/10 (${n * 10}%)`);
    }
    // INBOX_LIMIT is 5 in the harness: the welcome (oldest) message was dropped, all mails were sent.
    expect(mailsTo(user.email)).toHaveLength(6);

    const first = await inbox(user.userId, '?limit=2');
    expect(first.unreadCount).toBe(5);
    const titles = [...first.items.map((n) => n.title)];
    let cursor = first.nextCursor;
    while (cursor !== null) {
      const next = await inbox(user.userId, `?limit=2&cursor=${cursor}`);
      titles.push(...next.items.map((n) => n.title));
      cursor = next.nextCursor;
    }
    expect(titles).toEqual([...scores].reverse());

    const target = first.items[1];
    if (!target) throw new Error('no notification');
    const read = await svc.call('POST', `/api/v1/notifications/${target.id}/read`, user.userId);
    expect(read.status).toBe(200);
    const marked = notificationSchema.parse(read.json);
    expect(marked).toMatchObject({ id: target.id, title: target.title });
    expect(marked.readAt).not.toBeNull();
    // Marking again keeps the first read time.
    const again = notificationSchema.parse(
      (await svc.call('POST', `/api/v1/notifications/${target.id}/read`, user.userId)).json,
    );
    expect(again.readAt).toBe(marked.readAt);
    expect((await inbox(user.userId)).unreadCount).toBe(4);

    const all = await svc.call('POST', '/api/v1/notifications/read-all', user.userId);
    expect(readAllResultSchema.parse(all.json)).toEqual({ marked: 4 });
    const after = await inbox(user.userId);
    expect(after.unreadCount).toBe(0);
    expect(after.items.every((n) => n.readAt !== null)).toBe(true);
  });

  it('a player only ever sees and changes their own inbox', async () => {
    const alice = newUser();
    const bob = newUser();
    await register(alice);
    await register(bob);
    const aliceScore = randomUUID();
    await svc.publish(scoreCalculated, aliceScore, scored(alice.userId));
    await svc.handled(aliceScore, MAILED);

    const aliceInbox = await inbox(alice.userId);
    const bobInbox = await inbox(bob.userId);
    expect(aliceInbox.items.map((n) => n.kind)).toEqual(['result', 'welcome']);
    expect(bobInbox.items.map((n) => n.kind)).toEqual(['welcome']);
    const aliceIds = new Set(aliceInbox.items.map((n) => n.id));
    expect(bobInbox.items.some((n) => aliceIds.has(n.id))).toBe(false);

    // Bob cannot mark Alice's message read: it is not in his inbox.
    const [aliceMessage] = aliceInbox.items;
    if (!aliceMessage) throw new Error('no notification');
    const res = await svc.call('POST', `/api/v1/notifications/${aliceMessage.id}/read`, bob.userId);
    expect(res.status).toBe(404);
    expect(res.type).toContain('application/problem+json');
    expect((await svc.call('POST', '/api/v1/notifications/read-all', bob.userId)).json).toEqual({ marked: 1 });
    expect((await inbox(alice.userId)).unreadCount).toBe(2);
  });

  it('answers bad input with 400 problem+json naming the field, and anonymous callers with 401', async () => {
    const user = newUser();
    const cases: Array<[string, string, string]> = [
      ['GET', '/api/v1/notifications?limit=0', 'query.limit'],
      ['GET', '/api/v1/notifications?limit=ten', 'query.limit'],
      ['GET', '/api/v1/notifications?cursor=***', 'query.cursor'],
      ['GET', '/api/v1/notifications?cursor=bm90LWEtY3Vyc29y', 'query.cursor'],
      ['GET', '/api/v1/notifications?unread=yes', 'query'],
      ['POST', '/api/v1/notifications/not-an-id/read', 'params.id'],
    ];
    for (const [method, path, field] of cases) {
      const res = await svc.call(method, path, user.userId);
      expect([path, res.status, res.type]).toEqual([path, 400, expect.stringContaining('application/problem+json')]);
      expect(problemSchema.parse(res.json).errors?.map((e) => e.field)).toContain(field);
    }
    const anonymous = await svc.call('GET', '/api/v1/notifications');
    expect([anonymous.status, anonymous.type]).toEqual([401, expect.stringContaining('application/problem+json')]);
    expect((await svc.call('POST', '/api/v1/notifications/read-all')).status).toBe(401);
  });

  it('drops an event that breaks its contract to the dead-letter topic, where an admin finds it', async () => {
    const id = randomUUID();
    await svc.publish(scoreCalculated, id, { schemaVersion: 1, userId: randomUUID(), score: 11, maxScore: 10 });
    await eventually(async () => (await svc.service.deadLetters.store.ids('score.calculated')).length > 0);

    const res = await svc.call('GET', '/api/v1/admin/dead-letters?topic=score.calculated', randomUUID(), 'admin');
    expect(res.status).toBe(200);
    const { items } = deadLetterListSchema.parse(res.json);
    expect(items).toEqual([expect.objectContaining({ eventId: id, topic: 'score.calculated', deliveryCount: 1 })]);
    expect((await svc.call('GET', '/api/v1/admin/dead-letters', randomUUID(), 'player')).status).toBe(403);
  });

  describe('an inbox of many messages (a head and segments)', () => {
    const LEASE_MS = 30_000;
    /** a store over the same sidecar, with the production limit by default (the service's is 5) */
    const storeOf = (limit = 200, layout?: { segmentSize: number }) =>
      new NotificationStore(svc.runtime.dapr, svc.config.STATE_STORE_NAME, limit, layout);
    // Every key goes with the harness's prefix when it stops.
    const aUser = () => randomUUID();

    /** message `n` of a player: created n seconds after a fixed time, as large as a result message (~400 bytes) */
    const message = (n: number, eventId = randomUUID()): InboxEntry => ({
      id: notificationIdOf(scoreCalculated.topic, eventId),
      eventId,
      topic: scoreCalculated.topic,
      kind: 'result',
      title: `Your quiz result: ${n % 11}/10 (${(n % 11) * 10}%)`,
      body: `Hi Player ${n},\n\nyour attempt at "Capitals of Europe" has been scored: 7 of 10 points (70%),\n7 of 10 questions answered correctly.\n\nThe review of each question, with the explanations, is on your results page.`,
      createdAt: new Date(Date.UTC(2026, 4, 1, 10) + n * 1000).toISOString(),
      readAt: null,
      quizId: randomUUID(),
      attemptId: randomUUID(),
    });
    const messages = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => message(from + i));
    const add = (store: NotificationStore, userId: string, entry: InboxEntry, address = false) =>
      store.add(userId, entry, address, new Date(entry.createdAt), LEASE_MS);
    const addAll = async (store: NotificationStore, userId: string, entries: InboxEntry[]) => {
      for (const entry of entries) await add(store, userId, entry);
    };
    /** every message, newest first, through pages of `limit` */
    async function allPages(store: NotificationStore, userId: string, limit: number) {
      const first = await store.page(userId, limit, undefined);
      const items = [...first.items];
      for (let next = first.next; next;) {
        const page = await store.page(userId, limit, next);
        expect(page.items.length).toBeGreaterThan(0);
        expect(page.unreadCount).toBe(first.unreadCount);
        items.push(...page.items);
        next = page.next;
      }
      return { items, unreadCount: first.unreadCount };
    }
    const idsNewestFirst = (entries: InboxEntry[]) => [...entries].reverse().map((e) => e.id);

    /** the JSON bytes `run` writes in state transactions and reads in bulk reads */
    async function bytesOf(run: () => Promise<unknown>) {
      const state = svc.runtime.dapr.client.state;
      const transaction = state.transaction.bind(state);
      const getBulk = state.getBulk.bind(state);
      const bytes = { written: 0, read: 0 };
      const spies = [
        jest.spyOn(state, 'transaction').mockImplementation(async (...args) => {
          bytes.written += JSON.stringify(args[1]).length;
          return transaction(...args);
        }),
        jest.spyOn(state, 'getBulk').mockImplementation(async (...args) => {
          const items = await getBulk(...args);
          bytes.read += JSON.stringify(items).length;
          return items;
        }),
      ];
      try {
        await run();
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
      return bytes;
    }

    it('a new message writes a few messages’ worth, not the inbox: bounded at 150 messages', async () => {
      const store = storeOf();
      const userId = aUser();
      await addAll(store, userId, messages(1, 150));
      const size = JSON.stringify(message(151)).length;

      const { written } = await bytesOf(() => add(store, userId, message(151), true));
      // the head (at most a segment's 20 messages and the new one) and the mail record; the
      // single-document inbox wrote all 151
      expect(written).toBeLessThan(22 * size);
      expect(written).toBeGreaterThan(size);
    });

    it('pages newest first across the head and its segments, from any cursor', async () => {
      const store = storeOf();
      const userId = aUser();
      const added = messages(1, 65);
      await addAll(store, userId, added);

      for (const limit of [1, 7, 20, 21, 100]) {
        const { items, unreadCount } = await allPages(store, userId, limit);
        expect([limit, items.map((e) => e.id)]).toEqual([limit, idsNewestFirst(added)]);
        expect(unreadCount).toBe(65);
      }
      // The head holds the newest 5 (65 = 3 segments of 20 and 5): a first page of 4 reads it alone.
      const first = await bytesOf(() => store.page(userId, 4, undefined));
      expect(first.read).toBeLessThan(10 * JSON.stringify(message(1)).length);
    });

    it('counts unread, marks one read (404 when absent) and all read across head and segments', async () => {
      const store = storeOf();
      const userId = aUser();
      const added = messages(1, 45);
      await addAll(store, userId, added);
      const [oldest, , third] = added;
      const newest = added.at(-1);
      if (!oldest || !third || !newest) throw new Error('no messages');
      const at = new Date('2026-06-01T00:00:00.000Z');

      expect((await store.markRead(userId, oldest.id, at)).readAt).toBe(at.toISOString());
      expect((await store.markRead(userId, newest.id, at)).readAt).toBe(at.toISOString());
      // marking again keeps the first read time
      const later = new Date('2026-06-02T00:00:00.000Z');
      expect((await store.markRead(userId, oldest.id, later)).readAt).toBe(at.toISOString());
      await expect(store.markRead(userId, randomUUID(), at)).rejects.toMatchObject({ status: 404 });
      let all = await allPages(store, userId, 10);
      expect(all.unreadCount).toBe(43);
      expect(all.items.filter((e) => e.readAt !== null).map((e) => e.id)).toEqual([newest.id, oldest.id]);

      expect(await store.markAllRead(userId, later)).toBe(43);
      expect(await store.markAllRead(userId, later)).toBe(0);
      all = await allPages(store, userId, 10);
      expect(all.unreadCount).toBe(0);
      expect(all.items.find((e) => e.id === third.id)?.readAt).toBe(later.toISOString());
      expect(all.items.every((e) => e.readAt !== null)).toBe(true);
      // a message after read-all is the one unread
      await add(store, userId, message(46));
      expect((await store.page(userId, 1, undefined)).unreadCount).toBe(1);
    });

    it('keeps at most its limit: the oldest segment goes whole, with its messages’ mail records', async () => {
      const store = storeOf(50, { segmentSize: 5 });
      const userId = aUser();
      const added = messages(1, 73);
      await addAll(store, userId, added);

      const { items, unreadCount } = await allPages(store, userId, 100);
      // between limit - segmentSize + 1 and the limit, always the newest
      expect(items.length).toBeLessThanOrEqual(50);
      expect(items.length).toBeGreaterThan(45);
      expect(items.map((e) => e.id)).toEqual(idsNewestFirst(added).slice(0, items.length));
      expect(unreadCount).toBe(items.length);
      const gone = added.slice(0, added.length - items.length);
      for (const entry of gone) expect(await storedMail(entry.id)).toBeUndefined();
      for (const entry of added.slice(-items.length)) expect(await storedMail(entry.id)).toEqual(MAIL_DONE);
    });

    it('an event redelivered after more than a head of newer messages adds nothing and is not mailed again', async () => {
      const store = storeOf();
      const userId = aUser();
      const first = message(1);
      expect(await add(store, userId, first, true)).toMatchObject({ added: true, mail: 'claimed' });
      await store.mailSent(first.id);
      await addAll(store, userId, messages(2, 150));

      const again = { ...first, createdAt: '2026-06-01T00:00:00.000Z' };
      let outcome: unknown;
      const { written, read } = await bytesOf(async () => {
        outcome = await add(store, userId, again, true);
      });
      expect(outcome).toMatchObject({ added: false, mail: 'done', entry: { id: first.id } });
      expect(written).toBe(0);
      // the head and the mail record, not the 150 messages
      expect(read).toBeLessThan(22 * JSON.stringify(first).length);
      const { items } = await allPages(store, userId, 100);
      expect(items).toHaveLength(150);
      expect(items.filter((e) => e.id === first.id)).toHaveLength(1);

      // a message whose mail is still to send is claimed again by its redelivery, once
      const pending = message(151);
      await add(store, userId, pending, true);
      await store.mailFailed(pending.id);
      await addAll(store, userId, messages(152, 180));
      expect(await add(store, userId, pending, true)).toMatchObject({ added: false, mail: 'claimed' });
      expect(await add(store, userId, pending, true)).toMatchObject({ added: false, mail: 'busy' });
    });

    it('reads an inbox of the single-document format, and its next write moves it to head and segments', async () => {
      const store = storeOf();
      const userId = aUser();
      const legacy = messages(1, 45).map((e, i) => ({ ...e, readAt: i % 3 === 0 ? e.createdAt : null }));
      const [withPendingMail, withSentMail] = [legacy[5], legacy[6]];
      if (!withPendingMail || !withSentMail) throw new Error('no messages');
      const stored = [...legacy]
        .reverse()
        .map((e) =>
          e === withPendingMail
            ? { ...e, mail: 'pending', mailClaimedAt: null }
            : e === withSentMail
              ? { ...e, mail: 'sent', mailClaimedAt: null }
              : e,
        );
      await svc.runtime.dapr.saveState(svc.config.STATE_STORE_NAME, [
        { key: `inbox:${userId}`, value: { entries: stored } },
      ]);
      const unread = legacy.filter((e) => e.readAt === null).length;

      const before = await allPages(store, userId, 7);
      expect(before.items.map((e) => e.id)).toEqual(idsNewestFirst(legacy));
      expect(before.unreadCount).toBe(unread);

      const next = message(46);
      expect(await add(store, userId, next)).toMatchObject({ added: true });
      const head = await svc.runtime.dapr.getState<{ version?: number; entries: unknown[]; segments?: unknown[] }>(
        svc.config.STATE_STORE_NAME,
        NotificationStore.headKey(userId),
      );
      expect(head?.version).toBe(2);
      expect(await svc.runtime.dapr.getState(svc.config.STATE_STORE_NAME, `inbox:${userId}`)).toBeUndefined();
      expect(head?.entries.length).toBeLessThanOrEqual(20);
      expect(head?.segments?.length).toBeGreaterThan(0);
      const after = await allPages(store, userId, 7);
      expect(after.items.map((e) => e.id)).toEqual(idsNewestFirst([...legacy, next]));
      expect(after.items.every((e) => !('mail' in e))).toBe(true);
      expect(after.unreadCount).toBe(unread + 1);
      // the legacy mail states moved to mail records: the one still to send is mailed by its redelivery
      expect(await storedMail(withSentMail.id)).toEqual(MAIL_DONE);
      expect(await add(store, userId, withSentMail, true)).toMatchObject({ added: false, mail: 'done' });
      expect(await add(store, userId, withPendingMail, true)).toMatchObject({ added: false, mail: 'claimed' });
      expect(await add(store, userId, legacy[0] as InboxEntry, true)).toMatchObject({ added: false, mail: 'done' });
      expect((await allPages(store, userId, 100)).items).toHaveLength(46);
    });

    it('merges what a replica of the older version writes to the single-document key after the move (a rolling update): nothing is lost', async () => {
      const store = storeOf();
      const userId = aUser();
      const moved = messages(1, 45);
      await addAll(store, userId, moved);
      // An older replica reads no inbox under the old key and writes one with its one new message.
      const fromOldReplica = message(46);
      await svc.runtime.dapr.saveState(svc.config.STATE_STORE_NAME, [
        { key: `inbox:${userId}`, value: { entries: [fromOldReplica] } },
      ]);

      const shown = await allPages(store, userId, 7);
      expect(shown.items.map((e) => e.id)).toEqual(idsNewestFirst([...moved, fromOldReplica]));
      expect(shown.unreadCount).toBe(46);

      const next = message(47);
      expect(await add(store, userId, next)).toMatchObject({ added: true });
      const after = await allPages(store, userId, 7);
      expect(after.items.map((e) => e.id)).toEqual(idsNewestFirst([...moved, fromOldReplica, next]));
      expect(after.unreadCount).toBe(47);
      expect(await svc.runtime.dapr.getState(svc.config.STATE_STORE_NAME, `inbox:${userId}`)).toBeUndefined();
      // its mail was the older replica's to send: recorded as done, so a redelivery does not mail again
      expect(await storedMail(fromOldReplica.id)).toEqual(MAIL_DONE);
      expect(await add(store, userId, fromOldReplica, true)).toMatchObject({ added: false, mail: 'done' });
      expect(await add(store, userId, moved[0] as InboxEntry, true)).toMatchObject({ added: false, mail: 'done' });
      expect((await allPages(store, userId, 100)).items).toHaveLength(47);
    });

    it('concurrent events of one player all land once, redeliveries among them', async () => {
      const store = storeOf(200, { segmentSize: 4 });
      const userId = aUser();
      const added = messages(1, 30);
      const outcomes = await Promise.all(
        [...added, ...added.slice(0, 6)].map((entry) => add(store, userId, entry, true)),
      );

      expect(outcomes.filter((o) => o.added)).toHaveLength(30);
      expect(outcomes.filter((o) => o.mail === 'claimed')).toHaveLength(30);
      const { items, unreadCount } = await allPages(store, userId, 9);
      expect(items.map((e) => e.id)).toEqual(idsNewestFirst(added));
      expect(unreadCount).toBe(30);
    });
  });
});
