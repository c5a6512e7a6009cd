/**
 * quiz's contracts as others see them: the gateway routes every documented operation to quiz
 * with the same access rule, the OpenAPI document the gateway builds from them keeps answer
 * keys out of the player schemas, and the event contracts refuse inconsistent payloads.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { loadConfig, ServiceRuntime } from '@quizmesh/platform';
import { quizCompleted, quizPublished } from '@quizmesh/contracts/events';
import {
  playerQuizSchema,
  quizOperations,
  quizSeedAliases,
  startAttemptResponseSchema,
} from '@quizmesh/contracts/quiz-api';
import { loadContract } from '../../gateway/src/openapi/public-api';
import { resolveRoute } from '../../gateway/src/routes';
import { createQuizApp } from '../src/app';
import { QuizCache } from '../src/cache';
import { quizConfigSchema } from '../src/config';
import { createQuizPrisma } from '../src/db';

const concrete = (path: string) => path.replace(/\{version\}/g, '2').replace(/\{(\w+)\}/g, randomUUID());

describe('quiz API contract', () => {
  it.each(quizOperations.map((op) => [`${op.method.toUpperCase()} ${op.path}`, op] as const))(
    'the gateway routes %s to quiz with the documented access',
    (_name, op) => {
      const route = resolveRoute(op.method.toUpperCase(), concrete(op.path));
      expect(route?.appId).toBe('quiz');
      expect(route?.access.kind === 'public').toBe(op.access === 'public');
    },
  );

  it('routes the seed aliases to quiz and documents each as a deprecated copy', async () => {
    for (const alias of Object.keys(quizSeedAliases)) {
      const [method = '', path = ''] = alias.split(' ');
      expect(resolveRoute(method, concrete(path))?.appId).toBe('quiz');
    }
    const contract = await loadContract('quiz');
    const deadLetterAdmin = contract?.operations.filter((op) => op.path.startsWith('/api/v1/admin/dead-letters/quiz'));
    expect(deadLetterAdmin).toHaveLength(5); // list, replay, replay all (a job), the job, discard
    expect(contract?.operations).toHaveLength(
      quizOperations.length + Object.keys(quizSeedAliases).length + (deadLetterAdmin?.length ?? 0),
    );
    expect(
      contract?.operations
        .filter((op) => op.deprecated)
        .map((op) => `${op.method.toUpperCase()} ${op.path}`)
        .sort(),
    ).toEqual(Object.keys(quizSeedAliases).sort());
  });

  it('has no answer key or explanation anywhere in the player schemas, and rejects one that slipped in', () => {
    for (const schema of [playerQuizSchema, startAttemptResponseSchema]) {
      const json = JSON.stringify(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }));
      // as property names (the descriptions may say "no explanations")
      expect(json).not.toMatch(/"correct":/);
      expect(json).not.toMatch(/"explanation":/);
    }
    const question = {
      id: randomUUID(),
      type: 'single',
      text: 'Q?',
      points: 1,
      options: [{ id: randomUUID(), text: 'A', correct: true }],
    };
    const view = {
      id: randomUUID(),
      version: 1,
      title: 't',
      description: '',
      tags: [],
      difficulty: 'easy',
      timeLimitSeconds: 60,
      questionCount: 1,
      maxScore: 1,
      authorId: randomUUID(),
      status: 'published',
      versionStatus: 'published',
      publishedAt: new Date().toISOString(),
      questions: [question],
      leaderboard: null,
    };
    expect(playerQuizSchema.safeParse(view).success).toBe(false);
  });
});

describe('quiz event contracts', () => {
  const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
  const published = {
    schemaVersion: 1,
    quizId: randomUUID(),
    version: 2,
    supersedesVersion: 1,
    authorId: randomUUID(),
    title: 'Planets',
    difficulty: 'easy',
    timeLimitSeconds: 60,
    questionCount: 1,
    maxScore: 3,
    questions: [{ questionId: randomUUID(), type: 'single', points: 3, optionIds: [a, b], correctOptionIds: [a] }],
    publishedAt: '2026-11-21T10:00:00.000Z',
  };

  it('accepts a consistent quiz.published', () => {
    expect(quizPublished.schema.safeParse(published).success).toBe(true);
  });

  it.each([
    ['a question count that is not the number of questions', { questionCount: 2 }, 'questionCount'],
    ['a max score that is not the sum of the points', { maxScore: 4 }, 'maxScore'],
    [
      'a correct option that is not an option',
      { questions: [{ ...published.questions[0], correctOptionIds: [c] }] },
      'questions.0.correctOptionIds',
    ],
    [
      'two correct options on a single-choice question',
      { questions: [{ ...published.questions[0], correctOptionIds: [a, b] }] },
      'questions.0.correctOptionIds',
    ],
    ['no questions', { questions: [], questionCount: 0 }, 'questions'],
  ])('rejects quiz.published with %s', (_name, change, path) => {
    const result = quizPublished.schema.safeParse({ ...published, ...change });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it('requires the deadline and the late flag in quiz.completed', () => {
    const completed = {
      schemaVersion: 1,
      attemptId: randomUUID(),
      quizId: randomUUID(),
      quizVersion: 1,
      userId: randomUUID(),
      answers: [{ questionId: randomUUID(), optionIds: [a] }],
      startedAt: '2026-11-21T10:00:00.000Z',
      submittedAt: '2026-11-21T10:01:00.000Z',
      deadlineAt: '2026-11-21T10:01:00.000Z',
      late: false,
    };
    expect(quizCompleted.schema.safeParse(completed).success).toBe(true);
    const { late: _late, deadlineAt: _deadline, ...older } = completed;
    expect(
      quizCompleted.schema
        .safeParse(older)
        .error?.issues.map((i) => i.path.join('.'))
        .sort(),
    ).toEqual(['deadlineAt', 'late']);
  });
});

describe('quiz Subscriptions (components/common/subscriptions-quiz.yaml)', () => {
  it('declare exactly the routes the app serves, each scoped to quiz, dead-lettered unless it is a dead-letter topic', async () => {
    const file = join(__dirname, '..', '..', '..', 'components', 'common', 'subscriptions-quiz.yaml');
    const declared = parseAllDocuments(readFileSync(file, 'utf8')).map(
      (doc) =>
        doc.toJS() as {
          kind: string;
          scopes: string[];
          spec: { pubsubname: string; topic: string; routes: { default: string }; deadLetterTopic?: string };
        },
    );
    for (const sub of declared) {
      expect(sub.kind).toBe('Subscription');
      expect(sub.scopes).toEqual(['quiz']);
      expect(sub.spec.deadLetterTopic).toBe(
        sub.spec.topic.endsWith('.deadletter') ? undefined : `${sub.spec.topic}.deadletter`,
      );
    }

    // The app as main.ts builds it (nothing is called: no database or sidecar needed).
    const config = loadConfig(quizConfigSchema, {
      DATABASE_URL: 'postgresql://nobody@127.0.0.1:9/none',
      PORT: '0',
      LOG_LEVEL: 'silent',
    });
    const runtime = new ServiceRuntime({ service: 'quiz', config, exit: () => undefined });
    const prisma = createQuizPrisma(config.DATABASE_URL);
    try {
      createQuizApp(runtime, config, {
        prisma,
        cache: new QuizCache(runtime.dapr, config.STATE_STORE_NAME, config.QUIZ_CACHE_TTL_SECONDS, runtime.logger),
        logger: runtime.logger,
        graceSeconds: config.SUBMIT_GRACE_SECONDS,
      });
      const served = runtime.subscriptions.list().map((s) => [s.pubsubname, s.topic, s.route]);
      expect(declared.map((d) => [d.spec.pubsubname, d.spec.topic, d.spec.routes.default]).sort()).toEqual(
        served.sort(),
      );
    } finally {
      await prisma.$disconnect();
      await runtime.dapr.close();
    }
  });
});
