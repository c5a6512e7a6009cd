import { z } from 'zod';
import { componentNameConfig, pubsubNameConfig, serviceConfig, stateStoreNameConfig } from '@quizmesh/platform';

export const quizConfigSchema = serviceConfig(
  {
    DATABASE_URL: z.string().min(1),
    PUBSUB_NAME: pubsubNameConfig(),
    /** the per-pod component of the Subscriptions every replica receives (view invalidations) */
    BROADCAST_PUBSUB_NAME: componentNameConfig('pubsub-broadcast'),
    /** the Dapr state store caching published quizzes (player view) */
    STATE_STORE_NAME: stateStoreNameConfig(),
    /** bounds how long a cached view can be stale if an invalidation is lost */
    QUIZ_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
    /** player views held in this process (rendered once: bytes + ETag); 0 turns the level off */
    QUIZ_VIEW_CACHE_ENTRIES: z.coerce.number().int().min(0).max(1_000_000).default(1_000),
    /** an in-process view is refilled after this long: the staleness bound if an invalidation is lost */
    QUIZ_VIEW_CACHE_SECONDS: z.coerce.number().int().min(1).max(3_600).default(30),
    /** a submission later than deadline + grace is recorded as late (network and clock slack) */
    SUBMIT_GRACE_SECONDS: z.coerce.number().int().min(0).max(600).default(10),
    OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  },
  { PORT: 3002 },
);

export type QuizConfig = z.infer<typeof quizConfigSchema>;
