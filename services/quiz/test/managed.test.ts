/**
 * Quizzes managed by a Quiz resource: the operator (a trusted service caller naming the resource)
 * creates them idempotently and may change them; the public API answers 409 naming the resource.
 */
import request from 'supertest';
import { CALLER_APP_HEADER } from '@quizmesh/platform';
import { authorQuizSchema } from '@quizmesh/contracts/quiz-api';
import { MANAGED_BY_HEADER, OPERATOR_AUTHOR_ID } from '@quizmesh/contracts/quiz-resource';
import { as, newUser, quizBody, rowCounts, startQuiz, type QuizUnderTest } from './harness';

describe('quizzes managed by a Quiz resource', () => {
  let quiz: QuizUnderTest;
  const admin = newUser('admin');
  const api = () => request(quiz.url);
  const operator = (resource: string) => ({ [CALLER_APP_HEADER]: 'operator', [MANAGED_BY_HEADER]: resource });

  beforeAll(async () => {
    quiz = await startQuiz({ backend: 'postgres' });
  });
  afterAll(async () => {
    await quiz?.stop();
  });

  it('creates once per resource: a retried create answers with the same quiz', async () => {
    const first = await api().post('/api/v1/quizzes').set(operator('default/capitals')).send(quizBody());
    expect(first.status).toBe(201);
    const created = authorQuizSchema.parse(first.body);
    expect(created.authorId).toBe(OPERATOR_AUTHOR_ID);
    const before = await rowCounts(quiz.prisma);
    const again = await api().post('/api/v1/quizzes').set(operator('default/capitals')).send(quizBody());
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(created.id);
    expect(await rowCounts(quiz.prisma)).toEqual(before);
  });

  it('refuses public edits, publications and archiving with 409 naming the resource; the operator may', async () => {
    const { body } = await api().post('/api/v1/quizzes').set(operator('team-a/planets')).send(quizBody());
    const id = String(body.id);
    for (const call of [
      api()
        .put(`/api/v1/quizzes/${id}`)
        .set(as(admin))
        .send(quizBody({ title: 'Hijacked' })),
      api().patch(`/api/v1/quizzes/${id}`).set(as(admin)).send({ title: 'Hijacked' }),
      api().post(`/api/v1/quizzes/${id}/publish`).set(as(admin)),
      api().post(`/api/v1/quizzes/${id}/archive`).set(as(admin)),
    ]) {
      const res = await call;
      expect(res.status).toBe(409);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.type).toBe('https://quizmesh.dev/problems/quiz-managed-by-resource');
      expect(res.body.detail).toContain('team-a/planets');
    }
    const edited = await api()
      .put(`/api/v1/quizzes/${id}`)
      .set(operator('team-a/planets'))
      .send(quizBody({ title: 'Planets' }));
    expect(edited.status).toBe(200);
    expect(edited.body.title).toBe('Planets');
    const published = await api().post(`/api/v1/quizzes/${id}/publish`).set(operator('team-a/planets'));
    expect(published.status).toBe(200);
    expect(published.body.versionStatus).toBe('published');
  });

  it('does not let one resource change the quiz of another', async () => {
    const { body } = await api().post('/api/v1/quizzes').set(operator('default/one')).send(quizBody());
    const res = await api()
      .put(`/api/v1/quizzes/${String(body.id)}`)
      .set(operator('default/two'))
      .send(quizBody());
    expect(res.status).toBe(409);
    expect(res.body.detail).toContain('default/one');
  });

  it('ignores the managed-by header from anyone but the operator', async () => {
    const author = newUser('author');
    const res = await api()
      .post('/api/v1/quizzes')
      .set({ ...as(author), [MANAGED_BY_HEADER]: 'default/forged' })
      .send(quizBody());
    expect(res.status).toBe(201);
    expect(res.body.authorId).toBe(author.id);
    const row = await quiz.prisma.quiz.findUniqueOrThrow({ where: { id: String(res.body.id) } });
    expect(row.managedBy).toBeNull();
  });

  it('rejects a malformed resource name with 400 naming the header', async () => {
    const res = await api().post('/api/v1/quizzes').set(operator('../../etc')).send(quizBody());
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain(MANAGED_BY_HEADER);
  });

  it("archiving through the operator releases the resource's name for a new quiz", async () => {
    const { body } = await api().post('/api/v1/quizzes').set(operator('default/reborn')).send(quizBody());
    const archived = await api()
      .post(`/api/v1/quizzes/${String(body.id)}/archive`)
      .set(operator('default/reborn'));
    expect(archived.status).toBe(200);
    expect(archived.body.status).toBe('archived');
    const again = await api()
      .post(`/api/v1/quizzes/${String(body.id)}/archive`)
      .set(operator('default/reborn'));
    expect(again.status).toBe(200);
    const next = await api().post('/api/v1/quizzes').set(operator('default/reborn')).send(quizBody());
    expect(next.status).toBe(201);
    expect(next.body.id).not.toBe(body.id);
  });
});
