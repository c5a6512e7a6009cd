/**
 * The quiz HTTP API: request and response schemas, used by the quiz service to validate
 * requests and by the gateway to generate its OpenAPI 3.1 document (same conventions as
 * identity-api.ts: `.meta({ id })` names a component, `quizOperations` lists every route).
 *
 * Two views of a quiz exist on purpose: `AuthorQuiz` (the author's and admins' view, with the
 * answer keys and explanations) and `PlayerQuiz` (everyone else's, without them). The player
 * schemas are strict objects, so a response that leaked a key would not even parse.
 *
 * Text is trimmed and NFC-normalised by the schemas; lengths count Unicode code points.
 */
import { z } from 'zod';
import type { ApiOperation } from './operations';
import { difficultySchema, leaderboardUpdated, questionTypeSchema, quizViewChanged } from './events';
import { problemSchema } from './identity-api';
import { FORBIDDEN_CHARACTERS_MESSAGE, hasForbiddenCharacters } from './text';

export { difficultySchema, questionTypeSchema, problemSchema };
export type Difficulty = z.infer<typeof difficultySchema>;
export type QuestionType = z.infer<typeof questionTypeSchema>;

export const QUIZ_LIMITS = {
  titleMax: 200,
  descriptionMax: 2_000,
  tagsMax: 10,
  tagMax: 30,
  questionsMax: 50,
  questionTextMax: 1_000,
  optionsMin: 2,
  optionsMax: 10,
  optionTextMax: 500,
  explanationMax: 2_000,
  pointsMax: 100,
  timeLimitMinSeconds: 10,
  timeLimitMaxSeconds: 4 * 3_600,
  searchMax: 200,
} as const;

const codePoints = (value: string) => [...value].length;
const VISIBLE = /[\p{L}\p{N}\p{S}\p{P}]/u;

function text(min: number, max: number, options: { multiline?: boolean; description?: string } = {}) {
  const multiline = options.multiline === true;
  return z
    .string()
    .trim()
    .normalize('NFC')
    .refine((v) => !hasForbiddenCharacters(v, { multiline }), FORBIDDEN_CHARACTERS_MESSAGE)
    .refine((v) => codePoints(v) >= min && codePoints(v) <= max, {
      message: min === 0 ? `must be at most ${max} characters` : `must be ${min} to ${max} characters`,
    })
    .refine((v) => min === 0 || VISIBLE.test(v), 'must contain at least one visible character')
    .meta({ minLength: min, maxLength: max, ...(options.description ? { description: options.description } : {}) });
}

export const tagSchema = z
  .string()
  .trim()
  .normalize('NFC')
  .toLowerCase()
  .regex(
    /^[\p{L}\p{N}][\p{L}\p{N}+#.-]{0,29}$/u,
    'must be 1 to 30 letters, digits or + # . - (starting with a letter or digit)',
  )
  .meta({ description: 'Lower-cased; letters, digits and + # . -', examples: ['astronomy', 'node.js', 'c++'] });

const uuid = (what: string) => z.uuid({ message: `must be ${what} (UUID)` });
const unique = <T>(values: T[]) => new Set(values).size === values.length;

// ---------------------------------------------------------------------------------- requests

export const optionInputSchema = z.strictObject({
  /** keep an option's id across edits; new options get one from the server */
  id: uuid('an option id').optional(),
  text: text(1, QUIZ_LIMITS.optionTextMax),
  correct: z.boolean(),
});

export const questionInputSchema = z
  .strictObject({
    id: uuid('a question id').optional(),
    type: questionTypeSchema,
    text: text(1, QUIZ_LIMITS.questionTextMax, { multiline: true }),
    points: z.number().int().min(1).max(QUIZ_LIMITS.pointsMax).default(1),
    /** shown to the author; players never receive it */
    explanation: text(0, QUIZ_LIMITS.explanationMax, { multiline: true }).optional(),
    options: z.array(optionInputSchema).min(QUIZ_LIMITS.optionsMin).max(QUIZ_LIMITS.optionsMax),
  })
  .superRefine((q, ctx) => {
    const correct = q.options.filter((o) => o.correct).length;
    if (q.type === 'single' && correct !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['options'],
        message: 'a single-choice question needs exactly one correct option',
      });
    }
    if (q.type === 'multiple' && correct < 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['options'],
        message: 'a multiple-choice question needs at least one correct option',
      });
    }
    if (!unique(q.options.map((o) => o.text.toLowerCase()))) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: 'must not repeat an option' });
    }
  })
  .meta({ id: 'QuestionInput', description: 'A single- or multiple-choice question with 2 to 10 options.' });

const questionsInputSchema = z
  .array(questionInputSchema)
  .max(QUIZ_LIMITS.questionsMax)
  .superRefine((questions, ctx) => {
    const questionIds = questions.flatMap((q) => (q.id ? [q.id] : []));
    const optionIds = questions.flatMap((q) => q.options.flatMap((o) => (o.id ? [o.id] : [])));
    if (!unique(questionIds)) ctx.addIssue({ code: 'custom', message: 'must not repeat a question id' });
    if (!unique(optionIds)) ctx.addIssue({ code: 'custom', message: 'must not repeat an option id' });
  });

const tagsSchema = z
  .array(tagSchema)
  .max(QUIZ_LIMITS.tagsMax)
  .refine((tags) => unique(tags), 'must not repeat a tag');

const quizFields = {
  title: text(1, QUIZ_LIMITS.titleMax),
  description: text(0, QUIZ_LIMITS.descriptionMax, { multiline: true }),
  tags: tagsSchema,
  difficulty: difficultySchema,
  timeLimitSeconds: z.number().int().min(QUIZ_LIMITS.timeLimitMinSeconds).max(QUIZ_LIMITS.timeLimitMaxSeconds),
  /** a draft may have none yet; publishing needs at least one */
  questions: questionsInputSchema,
};

/** What a quiz says about itself above its questions. */
export interface QuizHeader<Difficulty = string> {
  title: string;
  description: string;
  tags: string[];
  difficulty: Difficulty;
  timeLimitSeconds: number;
}

/** Just the header of a quiz's content, a version row or a resource spec (nothing else copied). */
export function quizHeaderOf<D>(quiz: QuizHeader<D>): QuizHeader<D> {
  return {
    title: quiz.title,
    description: quiz.description,
    tags: quiz.tags,
    difficulty: quiz.difficulty,
    timeLimitSeconds: quiz.timeLimitSeconds,
  };
}

export const createQuizRequestSchema = z
  .strictObject({
    ...quizFields,
    description: quizFields.description.default(''),
    tags: quizFields.tags.default([]),
  })
  .meta({ id: 'CreateQuizRequest', description: 'A new quiz, created as draft version 1 (role author or admin).' });

export const replaceQuizRequestSchema = createQuizRequestSchema.meta({
  id: 'ReplaceQuizRequest',
  description:
    'Replace the draft. On a published quiz without a draft, this creates the next version as a draft; the published version stays playable and unchanged.',
});

export const updateQuizRequestSchema = z
  .strictObject({
    title: quizFields.title.optional(),
    description: quizFields.description.optional(),
    tags: quizFields.tags.optional(),
    difficulty: quizFields.difficulty.optional(),
    timeLimitSeconds: quizFields.timeLimitSeconds.optional(),
    questions: quizFields.questions.optional(),
  })
  .refine((r) => Object.values(r).some((v) => v !== undefined), { message: 'nothing to update' })
  .meta({
    id: 'UpdateQuizRequest',
    description: 'Change the fields given (questions are replaced as a whole); as PUT for versions.',
  });

export const submitAttemptRequestSchema = z
  .strictObject({
    answers: z
      .array(
        z.strictObject({
          questionId: uuid('a question id'),
          /** empty: the question was seen and left unanswered */
          optionIds: z
            .array(uuid('an option id'))
            .max(QUIZ_LIMITS.optionsMax)
            .refine((ids) => unique(ids), 'must not repeat an option'),
        }),
      )
      .max(QUIZ_LIMITS.questionsMax)
      .refine((answers) => unique(answers.map((a) => a.questionId)), 'must answer each question at most once'),
  })
  .meta({
    id: 'SubmitAttemptRequest',
    description: 'The chosen options per question; questions left out count as unanswered.',
  });

export const quizIdParamsSchema = z.object({ id: uuid('a quiz id') });
export const quizVersionParamsSchema = z.object({
  id: uuid('a quiz id'),
  version: z.coerce.number({ message: 'must be a version number' }).int().min(1).max(1_000_000),
});
export const attemptIdParamsSchema = z.object({ id: uuid('an attempt id') });

export const QUIZ_LIST_STATUSES = ['published', 'draft', 'archived'] as const;

export const listQuizzesQuerySchema = z
  .strictObject({
    /** full-text search over title and description (web-search syntax: "quoted phrases", -excluded, or) */
    q: text(1, QUIZ_LIMITS.searchMax).optional(),
    tag: tagSchema.optional(),
    difficulty: difficultySchema.optional(),
    /** draft and archived list only your own quizzes (all of them for admins) */
    status: z.enum(QUIZ_LIST_STATUSES).default('published'),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    /** `nextCursor` of the previous page */
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,200}$/, 'must be the nextCursor of a previous page')
      .optional(),
  })
  .meta({ id: 'ListQuizzesQuery' });

// --------------------------------------------------------------------------------- responses

export const QUIZ_STATUSES = ['draft', 'published', 'archived'] as const;
export const VERSION_STATUSES = ['draft', 'published', 'superseded', 'archived'] as const;
export const ATTEMPT_STATUSES = ['IN_PROGRESS', 'SUBMITTED', 'SCORED', 'FAILED', 'EXPIRED'] as const;
export const quizStatusSchema = z.enum(QUIZ_STATUSES);
export const versionStatusSchema = z.enum(VERSION_STATUSES);
export const attemptStatusSchema = z.enum(ATTEMPT_STATUSES);

export const authorQuestionSchema = z
  .object({
    id: z.uuid(),
    type: questionTypeSchema,
    text: z.string(),
    points: z.number().int(),
    explanation: z.string().nullable(),
    options: z.array(z.object({ id: z.uuid(), text: z.string(), correct: z.boolean() })),
  })
  .meta({ id: 'AuthorQuestion', description: 'A question with its answer key.' });

const quizSummaryFields = {
  id: z.uuid(),
  version: z.number().int().positive(),
  title: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  difficulty: difficultySchema,
  timeLimitSeconds: z.number().int(),
  questionCount: z.number().int(),
  /** the sum of the questions' points */
  maxScore: z.number().int(),
  authorId: z.uuid(),
};

export const authorQuizSchema = z
  .object({
    ...quizSummaryFields,
    status: quizStatusSchema,
    versionStatus: versionStatusSchema,
    questions: z.array(authorQuestionSchema),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    publishedAt: z.iso.datetime().nullable(),
  })
  .meta({
    id: 'AuthorQuiz',
    description: 'One version of a quiz as its author (or an admin) sees it: with answer keys.',
  });

export const playerQuestionSchema = z
  .strictObject({
    id: z.uuid(),
    type: questionTypeSchema,
    text: z.string(),
    points: z.number().int(),
    options: z.array(z.strictObject({ id: z.uuid(), text: z.string() })),
  })
  .meta({ id: 'PlayerQuestion', description: 'A question without its answer key or explanation.' });

export const leaderboardSnapshotSchema = z
  .strictObject({
    top: z.array(
      z.strictObject({
        rank: z.number().int().positive(),
        userId: z.uuid(),
        displayName: z.string().optional(),
        score: z.number(),
      }),
    ),
    updatedAt: z.iso.datetime(),
  })
  .meta({
    id: 'QuizLeaderboardSnapshot',
    description: "The top of this quiz's leaderboard, from evaluation's latest leaderboard.updated.",
  });

export const playerQuizSchema = z
  .strictObject({
    ...quizSummaryFields,
    /** published, or archived (no new attempts) */
    status: quizStatusSchema,
    versionStatus: versionStatusSchema,
    publishedAt: z.iso.datetime(),
    questions: z.array(playerQuestionSchema),
    leaderboard: leaderboardSnapshotSchema.nullable(),
  })
  .meta({
    id: 'PlayerQuiz',
    description: 'A published quiz version as players see it: no answer keys, no explanations.',
  });

export const quizSummarySchema = z
  .strictObject({
    ...quizSummaryFields,
    status: quizStatusSchema,
    versionStatus: versionStatusSchema,
    createdAt: z.iso.datetime(),
    publishedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'QuizSummary' });

export const quizListSchema = z
  .object({ items: z.array(quizSummarySchema), nextCursor: z.string().nullable() })
  .meta({ id: 'QuizList', description: 'Newest quizzes first; pass nextCursor to get the next page.' });

export const quizVersionListSchema = z
  .object({
    items: z.array(
      z.object({
        version: z.number().int().positive(),
        status: versionStatusSchema,
        title: z.string(),
        questionCount: z.number().int(),
        createdAt: z.iso.datetime(),
        publishedAt: z.iso.datetime().nullable(),
      }),
    ),
  })
  .meta({ id: 'QuizVersionList', description: 'Every version of a quiz, oldest first.' });

export const attemptScoreSchema = z
  .object({
    score: z.number(),
    maxScore: z.number(),
    correctCount: z.number().int(),
    questionCount: z.number().int(),
    scoredAt: z.iso.datetime(),
  })
  .meta({ id: 'AttemptScore' });

export const attemptSchema = z
  .strictObject({
    id: z.uuid(),
    quizId: z.uuid(),
    quizVersion: z.number().int().positive(),
    userId: z.uuid(),
    status: attemptStatusSchema,
    startedAt: z.iso.datetime(),
    /** startedAt + the version's time limit */
    deadlineAt: z.iso.datetime(),
    submittedAt: z.iso.datetime().nullable(),
    /** submitted after the deadline plus the grace period: evaluation scores it 0 */
    late: z.boolean(),
    answers: z.array(z.strictObject({ questionId: z.uuid(), optionIds: z.array(z.uuid()) })).nullable(),
    /** set once SCORED, or once an EXPIRED attempt is scored (0, like a late one) */
    score: attemptScoreSchema.nullable(),
    /** set once FAILED */
    failureReason: z.string().nullable(),
  })
  .meta({
    id: 'Attempt',
    description:
      'IN_PROGRESS → SUBMITTED → SCORED, or FAILED when it cannot be scored; IN_PROGRESS → EXPIRED when nobody ' +
      'submitted it by its deadline plus the grace period (scored 0, not ranked).',
  });

export const startAttemptResponseSchema = z
  .object({ attempt: attemptSchema, quiz: playerQuizSchema })
  .meta({ id: 'StartAttemptResponse', description: 'The open attempt and the exact quiz version it plays.' });

export const attemptAcceptedSchema = z
  .object({
    attemptId: z.uuid(),
    status: attemptStatusSchema,
    late: z.boolean(),
    submittedAt: z.iso.datetime(),
    /** poll this (also in Location) until status is SCORED or FAILED */
    statusUrl: z.string(),
  })
  .meta({ id: 'AttemptAccepted', description: 'The submission is recorded; scoring happens asynchronously.' });

export const attemptHistorySchema = z
  .object({
    attemptId: z.uuid(),
    items: z.array(
      z.object({
        from: attemptStatusSchema.nullable(),
        to: attemptStatusSchema,
        reason: z.string(),
        at: z.iso.datetime(),
        /** the event that caused the transition, or that it published */
        eventId: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'AttemptHistory', description: "The attempt's state transitions, oldest first." });

export const reviewedQuestionSchema = z
  .object({
    ...authorQuestionSchema.shape,
    /** what the player chose; empty when the question was left unanswered */
    selectedOptionIds: z.array(z.uuid()),
    /** the chosen options are exactly the correct ones */
    correct: z.boolean(),
    /** 0 for a wrong answer, and for every question of a late or expired attempt */
    pointsAwarded: z.number().int().nonnegative(),
  })
  .meta({ id: 'ReviewedQuestion', description: 'A question as the author wrote it, with the player’s answer.' });

export const attemptReviewSchema = z
  .object({
    attemptId: z.uuid(),
    quizId: z.uuid(),
    quizVersion: z.number().int().positive(),
    title: z.string(),
    status: z.enum(['SCORED', 'EXPIRED']),
    late: z.boolean(),
    score: attemptScoreSchema,
    /** in the order the player saw them */
    questions: z.array(reviewedQuestionSchema),
  })
  .meta({
    id: 'AttemptReview',
    description: 'A scored attempt question by question: correct options and explanations (its player only).',
  });

// -------------------------------------------------------------------------------- operations

export type { Access } from './operations';
export type QuizOperation = ApiOperation<'get' | 'post' | 'patch' | 'put'>;

export const quizOperations: readonly QuizOperation[] = [
  {
    operationId: 'listQuizzes',
    method: 'get',
    path: '/api/v1/quizzes',
    summary: 'List and search quizzes (published by default)',
    access: 'public',
    query: listQuizzesQuerySchema,
    response: { status: 200, schema: quizListSchema },
    errors: [401, 403],
    description: 'status=draft or archived needs role author (your own quizzes) or admin.',
  },
  {
    operationId: 'createQuiz',
    method: 'post',
    path: '/api/v1/quizzes',
    summary: 'Create a quiz as a draft (author or admin)',
    access: 'user',
    body: createQuizRequestSchema,
    response: { status: 201, schema: authorQuizSchema },
    errors: [401, 403],
  },
  {
    operationId: 'getQuiz',
    method: 'get',
    path: '/api/v1/quizzes/{id}',
    summary: 'The playable version of a quiz, without answer keys',
    access: 'public',
    params: quizIdParamsSchema,
    response: { status: 200, schema: playerQuizSchema },
    conditionalGet: true,
    // The player view is the same for every caller (no answer keys, nothing per user): decision 1000.
    gatewayCache: {
      purgedBy: [
        { topic: quizViewChanged.topic, field: 'quizId' },
        // of each board the event names (the gateway hands them over one at a time, as version 1)
        { topic: leaderboardUpdated.topic, field: 'quizId' },
      ],
    },
    errors: [404],
    description:
      'Send the ETag you last read as If-None-Match: while the quiz is unchanged the answer is 304 without a body.',
  },
  {
    operationId: 'replaceQuizDraft',
    method: 'put',
    path: '/api/v1/quizzes/{id}',
    summary: 'Replace the draft (a published quiz gets a new draft version)',
    access: 'user',
    params: quizIdParamsSchema,
    body: replaceQuizRequestSchema,
    response: { status: 200, schema: authorQuizSchema },
    errors: [401, 403, 404, 409, 412],
    description:
      'Answers 201 with a Location when the edit started a new version.' +
      ' Send the ETag you last read as If-Match to refuse (412) an edit of content that changed meanwhile.',
  },
  {
    operationId: 'updateQuizDraft',
    method: 'patch',
    path: '/api/v1/quizzes/{id}',
    summary: 'Change fields of the draft (a published quiz gets a new draft version)',
    access: 'user',
    params: quizIdParamsSchema,
    body: updateQuizRequestSchema,
    response: { status: 200, schema: authorQuizSchema },
    errors: [401, 403, 404, 409, 412],
    description:
      'Answers 201 with a Location when the edit started a new version.' +
      ' Send the ETag you last read as If-Match to refuse (412) an edit of content that changed meanwhile.',
  },
  {
    operationId: 'publishQuiz',
    method: 'post',
    path: '/api/v1/quizzes/{id}/publish',
    summary: 'Publish the draft; it supersedes the previous version',
    access: 'user',
    params: quizIdParamsSchema,
    response: { status: 200, schema: authorQuizSchema },
    purgesGatewayCache: ['getQuiz'],
    errors: [401, 403, 404, 409, 412, 422],
    description: 'With If-Match, publishes only the draft content the caller last read (else 412).',
  },
  {
    operationId: 'archiveQuiz',
    method: 'post',
    path: '/api/v1/quizzes/{id}/archive',
    summary: 'Archive a quiz: no new attempts, no more edits',
    access: 'user',
    params: quizIdParamsSchema,
    response: { status: 200, schema: quizSummarySchema },
    purgesGatewayCache: ['getQuiz'],
    errors: [401, 403, 404],
  },
  {
    operationId: 'listQuizVersions',
    method: 'get',
    path: '/api/v1/quizzes/{id}/versions',
    summary: 'Every version of a quiz (author or admin)',
    access: 'user',
    params: quizIdParamsSchema,
    response: { status: 200, schema: quizVersionListSchema },
    errors: [401, 403, 404],
  },
  {
    operationId: 'getQuizVersion',
    method: 'get',
    path: '/api/v1/quizzes/{id}/versions/{version}',
    summary: 'One version with its answer keys (author or admin)',
    access: 'user',
    params: quizVersionParamsSchema,
    response: { status: 200, schema: authorQuizSchema },
    errors: [401, 403, 404],
  },
  {
    operationId: 'startAttempt',
    method: 'post',
    path: '/api/v1/quizzes/{id}/attempts',
    summary: 'Start (or resume) an attempt at the published version',
    access: 'user',
    params: quizIdParamsSchema,
    response: { status: 201, schema: startAttemptResponseSchema },
    errors: [401, 404, 409],
    description:
      'Answers 200 with the open attempt when the caller already has one for this version. An open attempt past ' +
      'its deadline plus the grace period is closed as EXPIRED first, and a new one starts (201).',
  },
  {
    operationId: 'submitAttempt',
    method: 'post',
    path: '/api/v1/attempts/{id}/submit',
    summary: 'Submit the answers; scoring is asynchronous (poll the Location)',
    access: 'user',
    params: attemptIdParamsSchema,
    body: submitAttemptRequestSchema,
    response: { status: 202, schema: attemptAcceptedSchema },
    errors: [401, 403, 404, 409],
    description:
      'Idempotent: submitting again answers the same 202 and changes nothing. 409 `attempt-expired` once the ' +
      'attempt was closed for passing its deadline plus the grace period unsubmitted (its answers are not recorded).',
  },
  {
    operationId: 'getAttempt',
    method: 'get',
    path: '/api/v1/attempts/{id}',
    summary: 'An attempt and, once SCORED, its score (owner or admin)',
    access: 'user',
    params: attemptIdParamsSchema,
    response: { status: 200, schema: attemptSchema },
    errors: [401, 403, 404],
  },
  {
    operationId: 'getAttemptReview',
    method: 'get',
    path: '/api/v1/attempts/{id}/review',
    summary: 'A scored attempt with the correct options and the explanations (its player only)',
    access: 'user',
    params: attemptIdParamsSchema,
    response: { status: 200, schema: attemptReviewSchema },
    errors: [401, 403, 404, 409],
    description:
      'Only the player who made the attempt may read it (403 for everyone else, admins included). ' +
      '409 `attempt-not-scored` until the attempt is scored: answer keys and explanations are never shown before.',
  },
  {
    operationId: 'getAttemptHistory',
    method: 'get',
    path: '/api/v1/attempts/{id}/history',
    summary: "An attempt's state transitions (owner or admin)",
    access: 'user',
    params: attemptIdParamsSchema,
    response: { status: 200, schema: attemptHistorySchema },
    errors: [401, 403, 404],
  },
];

/** The seed design's paths, served by quiz as plain aliases (the gateway passes them through). */
export const quizSeedAliases = {
  'GET /api/quizzes': 'GET /api/v1/quizzes',
  'GET /api/quizzes/{id}': 'GET /api/v1/quizzes/{id}',
  'POST /api/quizzes': 'POST /api/v1/quizzes',
} as const;

/**
 * Not a public operation (the gateway routes only `quizOperations`, and only under /api/): the
 * quiz.published data of a published version, exactly as that event carries it, served to
 * evaluation through Dapr service invocation when it has no answer key for a version it scores
 * (docs/decisions/1080). 404 problem+json when the quiz or version does not exist or was never
 * published; 403 for any caller but evaluation.
 */
export const quizPublishedRead = {
  /** the Express route quiz mounts */
  route: '/internal/v1/quizzes/:id/versions/:version/quiz-published',
  /** the Dapr access-control operation allowing exactly this route (chart and components/common/config.yaml) */
  aclOperation: '/internal/v1/quizzes/*/versions/*/quiz-published',
  /** the one app that may call it */
  callerAppId: 'evaluation',
  /** the method a caller invokes on quiz's app id */
  method: (quizId: string, version: number) => `internal/v1/quizzes/${quizId}/versions/${version}/quiz-published`,
} as const;

export type CreateQuizRequest = z.infer<typeof createQuizRequestSchema>;
export type UpdateQuizRequest = z.infer<typeof updateQuizRequestSchema>;
export type QuestionInput = z.infer<typeof questionInputSchema>;
export type SubmitAttemptRequest = z.infer<typeof submitAttemptRequestSchema>;
export type ListQuizzesQuery = z.infer<typeof listQuizzesQuerySchema>;
export type AuthorQuestion = z.infer<typeof authorQuestionSchema>;
export type AuthorQuiz = z.infer<typeof authorQuizSchema>;
export type PlayerQuiz = z.infer<typeof playerQuizSchema>;
export type QuizSummary = z.infer<typeof quizSummarySchema>;
export type QuizList = z.infer<typeof quizListSchema>;
export type Attempt = z.infer<typeof attemptSchema>;
export type AttemptStatus = z.infer<typeof attemptStatusSchema>;
export type AttemptHistory = z.infer<typeof attemptHistorySchema>;
export type AttemptReview = z.infer<typeof attemptReviewSchema>;
export type ReviewedQuestion = z.infer<typeof reviewedQuestionSchema>;
export type LeaderboardSnapshot = z.infer<typeof leaderboardSnapshotSchema>;
