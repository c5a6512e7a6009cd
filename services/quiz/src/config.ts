import { z } from 'zod';
import { serviceConfig } from '@quizmesh/platform';
import { PUBSUB_NAME } from '@quizmesh/contracts/events';

const componentName = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'expected a Dapr component name');

export const quizConfigSchema = serviceConfig(
  {
    DATABASE_URL: z.string().min(1),
    PUBSUB_NAME: componentName.default(PUBSUB_NAME),
    /** the Dapr state store caching published quizzes (player view) */
    STATE_STORE_NAME: componentName.default('statestore'),
    /** bounds how long a cached view can be stale if an invalidation is lost */
    QUIZ_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
    /** a submission later than deadline + grace is recorded as late (network and clock slack) */
    SUBMIT_GRACE_SECONDS: z.coerce.number().int().min(0).max(600).default(10),
    OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  },
  { PORT: 3002 },
);

export type QuizConfig = z.infer<typeof quizConfigSchema>;
