/**
 * The internal read of a version's quiz.published (decision 1080): evaluation asks for it when the
 * event never reached it, so it must answer exactly what the event carried, for every published
 * version, and nothing for anything else or anyone else. (That the gateway cannot reach it:
 * through-gateway.test.ts.)
 */
import request from 'supertest';
import { CALLER_APP_HEADER } from '@quizmesh/platform';
import { quizPublished } from '@quizmesh/contracts/events';
import { authorQuizSchema, quizPublishedRead, type AuthorQuiz } from '@quizmesh/contracts/quiz-api';
import { eventually, expectProblem } from '@quizmesh/platform/testing';
import { as, newUser, quizBody, startQuiz, type QuizUnderTest } from './harness';

const APP_TOKEN = 'quiz-published-read-token';
let quiz: QuizUnderTest;
const author = newUser('player', 'author');
/** the gateway's headers for the author, with the app token its sidecar presents */
const asAuthor = { ...as(author), 'dapr-api-token': APP_TOKEN };

beforeAll(async () => {
  quiz = await startQuiz({ backend: 'postgres', env: { APP_API_TOKEN: APP_TOKEN } });
});
afterAll(async () => {
  await quiz?.stop();
});

const api = () => request(quiz.url);
const path = (quizId: string, version: number) => `/${quizPublishedRead.method(quizId, version)}`;
/** as evaluation's call arrives through its sidecar and quiz's */
const read = (quizId: string, version: number, caller = 'evaluation', token = APP_TOKEN) =>
  api()
    .get(path(quizId, version))
    .set({ [CALLER_APP_HEADER]: caller, 'dapr-api-token': token });

async function publish(id: string): Promise<AuthorQuiz> {
  const res = await api().post(`/api/v1/quizzes/${id}/publish`).set(asAuthor);
  expect(res.status).toBe(200);
  return authorQuizSchema.parse(res.body);
}

async function publishedEventData(quizId: string, version: number): Promise<Record<string, unknown>> {
  const match = (data: Record<string, unknown>) => data.quizId === quizId && data.version === version;
  await eventually(() => quiz.published.some((p) => p.topic === quizPublished.topic && match(p.event.data)));
  const found = quiz.published.find((p) => p.topic === quizPublished.topic && match(p.event.data));
  if (!found) throw new Error(`no quiz.published of ${quizId} v${version}`);
  return found.event.data;
}

describe("the internal read of a version's quiz.published", () => {
  it('answers exactly what quiz.published carried, for the playable and a superseded version', async () => {
    const created = await api().post('/api/v1/quizzes').set(asAuthor).send(quizBody());
    expect(created.status).toBe(201);
    const draft = authorQuizSchema.parse(created.body);
    await publish(draft.id);
    // A second version: its quiz.published names the one it supersedes.
    const edited = await api().patch(`/api/v1/quizzes/${draft.id}`).set(asAuthor).send({ title: 'Second edition' });
    expect(edited.status).toBe(201);
    await publish(draft.id);

    for (const version of [1, 2]) {
      const res = await read(draft.id, version);
      expect(res.status).toBe(200);
      expect(quizPublished.schema.parse(res.body)).toEqual(res.body);
      expect(res.body).toEqual(await publishedEventData(draft.id, version));
    }
    expect((await read(draft.id, 2)).body).toMatchObject({ version: 2, supersedesVersion: 1, title: 'Second edition' });
    expect((await read(draft.id, 1)).body).not.toHaveProperty('supersedesVersion');

    // Still there once the quiz is archived: attempts of it may still be scored.
    expect((await api().post(`/api/v1/quizzes/${draft.id}/archive`).set(asAuthor)).status).toBe(200);
    expect((await read(draft.id, 2)).body).toEqual(await publishedEventData(draft.id, 2));
  });

  it('answers 404 problem+json for an unknown quiz, an unknown version and a version never published', async () => {
    const created = await api().post('/api/v1/quizzes').set(asAuthor).send(quizBody());
    const draft = authorQuizSchema.parse(created.body);
    expectProblem(await read(draft.id, 1), 404);
    await publish(draft.id);
    expect((await read(draft.id, 1)).status).toBe(200);
    expectProblem(await read(draft.id, 2), 404);
    // The next draft exists as version 2 but is not published.
    expect((await api().patch(`/api/v1/quizzes/${draft.id}`).set(asAuthor).send({ title: 'Draft' })).status).toBe(201);
    expectProblem(await read(draft.id, 2), 404);
    expectProblem(await read('7d1c4f0e-2b7a-4c55-9a43-6f3e8d2b1a90', 1), 404);
    expectProblem(await read('not-a-quiz', 1), 400, 'params.id');
  });

  it('answers no other app and no user (403), and no caller without the app token (401, as every route)', async () => {
    const created = await api().post('/api/v1/quizzes').set(asAuthor).send(quizBody());
    const draft = authorQuizSchema.parse(created.body);
    await publish(draft.id);
    expectProblem(await read(draft.id, 1, 'gateway'), 403);
    expectProblem(await read(draft.id, 1, 'operator'), 403);
    expectProblem(await api().get(path(draft.id, 1)).set(asAuthor), 403);
    expectProblem(await read(draft.id, 1, 'evaluation', 'wrong-token'), 401);
    expectProblem(await api().get(path(draft.id, 1)), 401);
  });
});
