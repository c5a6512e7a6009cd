import { z } from 'zod';
import { appIdConfig, pubsubNameConfig, redisUrlConfig, serviceConfig, stateStoreNameConfig } from '@quizmesh/platform';

export const evaluationConfigSchema = serviceConfig(
  {
    DATABASE_URL: z.string().min(1),
    /** leaderboards in Redis sorted sets; unset → the in-process board (embedded runs) */
    REDIS_URL: redisUrlConfig(),
    /** prefix of every Redis key evaluation writes (one Redis can serve several installations) */
    LEADERBOARD_KEY_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'expected 1-64 characters of A-Z a-z 0-9 : _ . -')
      .default('quizmesh:evaluation:'),
    /** how many entries leaderboard.updated carries, and how deep a change must reach to publish it */
    LEADERBOARD_EVENT_TOP: z.coerce.number().int().min(1).max(100).default(10),
    PUBSUB_NAME: pubsubNameConfig(),
    /** Dapr state store keeping dead letters of the topics evaluation consumes */
    STATE_STORE_NAME: stateStoreNameConfig(),
    OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
    /** the quiz service, asked for a version's quiz.published when its answer key is missing (decision 1080) */
    QUIZ_APP_ID: appIdConfig('quiz'),
    /** how long scoring waits for that answer before RETRY (well below Dapr's 10 s delivery timeout) */
    ANSWER_KEY_READ_TIMEOUT_MS: z.coerce.number().int().min(100).max(8_000).default(3_000),
  },
  { PORT: 3003 },
);

export type EvaluationConfig = z.infer<typeof evaluationConfigSchema>;
