/**
 * Adding to the system registry is all it takes: a fixture registry with a new endpoint on quiz,
 * a new app that consumes a topic, and a new consumer of an existing topic is picked up by the
 * route table, the OpenAPI document, the Subscriptions and the dead-letter admin routes.
 */
import { z } from 'zod';
import { quizApp, type AppRegistration } from '@quizmesh/contracts/registry';
import { SYSTEM, chartEvents, deadLetterAdminApps, subscriptionsOf } from '@quizmesh/contracts/system';
import { renderAllSubscriptions } from '@quizmesh/contracts/subscriptions-yaml';
import { quizPublished, scoreCalculated } from '@quizmesh/contracts/events';
import { publicApiDocument } from '../src/openapi/public-api';
import { createRouteTable } from '../src/routes';

const quizStats = z.object({ plays: z.number().int() }).meta({ id: 'QuizStatsFixture' });

const extendedQuiz: AppRegistration = {
  ...quizApp,
  operations: [
    ...quizApp.operations,
    {
      operationId: 'getQuizStatsFixture',
      method: 'get',
      path: '/api/v1/quizzes/{id}/stats',
      summary: 'How often a quiz was played',
      access: 'public',
      response: { status: 200, schema: quizStats },
      errors: [404],
    },
  ],
  // a new consumer of a topic quiz did not consume
  consumes: [...quizApp.consumes, { event: quizPublished }],
};

const trivia: AppRegistration = {
  appId: 'trivia',
  description: 'A fixture app.',
  operations: [
    {
      operationId: 'getTriviaFixture',
      method: 'get',
      path: '/api/v1/trivia',
      summary: 'Trivia',
      access: 'user',
      response: { status: 200, schema: quizStats },
      errors: [],
    },
  ],
  seedAliases: { 'GET /api/trivia': 'GET /api/v1/trivia' },
  consumes: [{ event: scoreCalculated }],
  compensates: [],
  deadLetters: 'admin-api',
};

const fixture = [...SYSTEM.map((app) => (app.appId === 'quiz' ? extendedQuiz : app)), trivia];

describe('a registry with a new endpoint and consumer', () => {
  const table = createRouteTable(fixture);

  it('routes the new endpoints (and the seed alias) with their access, and still denies what is not declared', () => {
    expect(table.resolve('GET', '/api/v1/quizzes/q1/stats')).toMatchObject({ appId: 'quiz', access: 'public' });
    expect(table.resolve('GET', '/api/v1/trivia')).toMatchObject({ appId: 'trivia', access: 'user' });
    expect(table.resolve('GET', '/api/trivia')).toMatchObject({ appId: 'trivia', access: 'user' });
    expect(table.resolve('POST', '/api/v1/trivia')).toBeUndefined();
    expect(table.appIds).toContain('trivia');
    // the system's own table knows none of it
    expect(createRouteTable(SYSTEM).resolve('GET', '/api/v1/quizzes/q1/stats')).toBeUndefined();
  });

  it('documents them in OpenAPI', () => {
    const document = publicApiDocument('test', fixture);
    expect(document.paths['/api/v1/quizzes/{id}/stats']?.get).toMatchObject({
      operationId: 'getQuizStatsFixture',
      tags: ['quiz'],
      security: [],
    });
    expect(document.paths['/api/v1/trivia']?.get).toMatchObject({ tags: ['trivia'] });
    expect(document.paths['/api/trivia']?.get).toMatchObject({ deprecated: true, operationId: 'getTriviaFixtureSeed' });
    expect(document.tags).toContainEqual({ name: 'trivia', description: 'A fixture app.' });
    expect(document.components.schemas.QuizStatsFixture).toBeDefined();
  });

  it('opens the dead-letter admin routes of the new app and lists the new topic in both apps', () => {
    expect(table.resolve('GET', '/api/v1/admin/dead-letters/trivia')).toMatchObject({
      appId: 'trivia',
      access: 'admin',
      upstreamPath: '/api/v1/admin/dead-letters',
    });
    expect(createRouteTable(SYSTEM).resolve('GET', '/api/v1/admin/dead-letters/trivia')).toBeUndefined();
    const topics = new Map(deadLetterAdminApps(fixture).map((a) => [a.appId, a.topics]));
    expect(topics.get('trivia')).toEqual(['score.calculated']);
    expect(topics.get('quiz')).toContain('quiz.published');
    const document = publicApiDocument('test', fixture);
    const list = document.paths['/api/v1/admin/dead-letters/quiz']?.get as {
      parameters: Array<{ name: string; schema: { enum?: string[] } }>;
    };
    expect(list.parameters.find((p) => p.name === 'topic')?.schema.enum).toContain('quiz.published');
    expect(document.paths['/api/v1/admin/dead-letters/trivia/{id}/replay']?.post).toBeDefined();
  });

  it('subscribes the new consumers to the topics and their dead letters, and puts them in the chart events', () => {
    expect(
      subscriptionsOf(extendedQuiz).map((s) => `${s.topic} -> ${s.route} dlq=${s.deadLetterTopic ?? '-'}`),
    ).toEqual(
      expect.arrayContaining([
        'quiz.published -> /events/quiz.published dlq=quiz.published.deadletter',
        'quiz.published.deadletter -> /events/quiz.published.deadletter dlq=-',
      ]),
    );
    const files = renderAllSubscriptions(fixture);
    expect(files.get('subscriptions-trivia.yaml')).toContain('  topic: score.calculated\n');
    expect(files.get('subscriptions-quiz.yaml')).toContain('  name: quiz-quiz-published-deadletter\n');
    expect(chartEvents(fixture).find((e) => e.topic === 'quiz.published')?.consumers).toEqual(['quiz', 'evaluation']);
    expect(chartEvents(fixture).find((e) => e.topic === 'score.calculated')?.consumers).toContain('trivia');
  });

  it('refuses two apps declaring the same method and path', () => {
    const [listQuizzes] = quizApp.operations;
    if (!listQuizzes) throw new Error('quiz has no operations');
    const clash: AppRegistration = {
      ...trivia,
      appId: 'clash',
      seedAliases: {},
      operations: [{ ...listQuizzes, operationId: 'clashing' }],
    };
    expect(() => createRouteTable([...SYSTEM, clash])).toThrow('GET /api/v1/quizzes is declared by quiz and clash');
  });
});
