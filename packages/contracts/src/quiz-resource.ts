/**
 * The `Quiz` custom resource (quizmesh.io/v1alpha1): a quiz as code, reconciled into the quiz
 * service by services/operator. Its `spec` is the quiz API's CreateQuizRequest plus `publish`, so
 * the CRD's schema (generated from these schemas) and the quiz service's validation cannot drift.
 */
import { z } from 'zod';
import { createQuizRequestSchema } from './quiz-api';

export const QUIZ_RESOURCE = {
  group: 'quizmesh.io',
  version: 'v1alpha1',
  kind: 'Quiz',
  listKind: 'QuizList',
  plural: 'quizzes',
  singular: 'quiz',
  shortNames: ['qz'],
  /** the finalizer that archives the quiz before the resource goes */
  finalizer: 'quizmesh.io/archive-quiz',
} as const;

export const QUIZ_API_VERSION = `${QUIZ_RESOURCE.group}/${QUIZ_RESOURCE.version}`;

/**
 * Sent by the operator with every call to the quiz service: the resource ("<namespace>/<name>") the
 * quiz is reconciled from. The quiz service honours it only from a trusted operator caller.
 */
export const MANAGED_BY_HEADER = 'x-quizmesh-managed-by';

/**
 * The author id of quizzes the operator creates: a fixed id no identity account has (identity issues
 * random v4 UUIDs; this one is a v5 shape), so only the operator (and admins) can manage them.
 */
export const OPERATOR_AUTHOR_ID = '6f7c2b1e-3d4a-5b6c-9d8e-0f1a2b3c4d5e';

export const quizResourceSpecSchema = createQuizRequestSchema
  .extend({
    /** true: publish the quiz, and publish every later change of the spec as a new version */
    publish: z.boolean().default(false),
  })
  .meta({
    id: 'QuizResourceSpec',
    description: 'The quiz as the quiz API accepts it, plus whether to publish it.',
  });

export type QuizResourceSpec = z.infer<typeof quizResourceSpecSchema>;

export const CONDITION_TYPES = ['Ready', 'Synced', 'Published'] as const;

export const quizConditionSchema = z.object({
  type: z.enum(CONDITION_TYPES),
  status: z.enum(['True', 'False', 'Unknown']),
  /** CamelCase, e.g. Reconciled, InvalidSpec, QuizServiceUnavailable */
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.iso.datetime(),
  observedGeneration: z.number().int().optional(),
});

export type QuizCondition = z.infer<typeof quizConditionSchema>;

export const quizResourceStatusSchema = z
  .object({
    quizId: z.uuid().optional(),
    observedGeneration: z.number().int().optional(),
    publishedVersion: z.number().int().optional(),
    /** players with a scored attempt (evaluation's per-quiz leaderboard), refreshed periodically */
    players: z.number().int().optional(),
    topScore: z.number().optional(),
    statsUpdatedAt: z.iso.datetime().optional(),
    conditions: z.array(quizConditionSchema).optional(),
  })
  .meta({ id: 'QuizResourceStatus', description: 'What the operator last did with the resource.' });

export type QuizResourceStatus = z.infer<typeof quizResourceStatusSchema>;

/** The parts of the resource the operator reads (the API server adds more metadata). */
export const quizResourceSchema = z.object({
  apiVersion: z.literal(QUIZ_API_VERSION),
  kind: z.literal(QUIZ_RESOURCE.kind),
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().optional(),
    generation: z.number().int().optional(),
    resourceVersion: z.string().optional(),
    uid: z.string().optional(),
    deletionTimestamp: z.string().optional(),
    finalizers: z.array(z.string()).optional(),
  }),
  /** unknown here: validated with quizResourceSpecSchema by the reconciler, so a bad spec becomes a condition */
  spec: z.unknown(),
  status: quizResourceStatusSchema.optional(),
});

export type QuizResource = z.infer<typeof quizResourceSchema>;

/** One operation a Dapr access-control policy allows (`name` is the Dapr path pattern: `*` is one segment). */
export interface InvocableOperation {
  name: string;
  httpVerb: string[];
}

/**
 * Everything the operator calls by service invocation, per app id, and nothing more: the chart's
 * `services.operator.invokeOperations` and the operator's policy in components/common/config.yaml
 * grant exactly these (tested), so its sidecar refuses any other route of quiz or evaluation.
 * The operator's quiz client (services/operator/src/quiz-client.ts) builds its paths with `operatorPaths`.
 */
export const operatorInvocations = {
  quiz: {
    create: { name: '/api/v1/quizzes', httpVerb: ['POST'] },
    replace: { name: '/api/v1/quizzes/*', httpVerb: ['PUT'] },
    publish: { name: '/api/v1/quizzes/*/publish', httpVerb: ['POST'] },
    archive: { name: '/api/v1/quizzes/*/archive', httpVerb: ['POST'] },
  },
  evaluation: {
    quizLeaderboard: { name: '/api/v1/leaderboards/quiz/*', httpVerb: ['GET'] },
  },
} as const satisfies Record<string, Record<string, InvocableOperation>>;

/** The methods the operator invokes, matching {@link operatorInvocations} one to one. */
export const operatorPaths = {
  create: () => 'api/v1/quizzes',
  replace: (quizId: string) => `api/v1/quizzes/${quizId}`,
  publish: (quizId: string) => `api/v1/quizzes/${quizId}/publish`,
  archive: (quizId: string) => `api/v1/quizzes/${quizId}/archive`,
  quizLeaderboard: (quizId: string) => `api/v1/leaderboards/quiz/${quizId}`,
};
