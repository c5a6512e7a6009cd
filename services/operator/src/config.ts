import { join } from 'node:path';
import { z } from 'zod';
import { appIdConfig, serviceConfig } from '@quizmesh/platform';

export const operatorConfigSchema = serviceConfig(
  {
    /**
     * kubernetes: watch Quiz resources through the API server (in a pod: its service account);
     * files: reconcile the Quiz YAML in QUIZ_DIR (local runs). Default: kubernetes inside a pod.
     */
    QUIZ_SOURCE: z.enum(['kubernetes', 'files']).default(process.env.KUBERNETES_SERVICE_HOST ? 'kubernetes' : 'files'),
    /** the folder of Quiz YAML for QUIZ_SOURCE=files (the examples by default) */
    QUIZ_DIR: z
      .string()
      .min(1)
      .default(join(__dirname, '..', 'examples')),
    QUIZ_POLL_MS: z.coerce.number().int().min(100).max(60_000).default(1_000),
    /** the namespace whose Quiz resources are reconciled (the chart sets the release namespace) */
    WATCH_NAMESPACE: z.string().min(1).default('default'),
    /** this replica's name for the Lease and events (the chart sets the pod name) */
    POD_NAME: z.string().min(1).default(`operator-${process.pid}`),
    LEASE_NAME: z.string().min(1).default('quizmesh-operator'),
    QUIZ_APP_ID: appIdConfig('quiz'),
    EVALUATION_APP_ID: appIdConfig('evaluation'),
    /** how often a healthy resource is compared with its quiz again (repairs drift) */
    RESYNC_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
    /** how often players and top score are refreshed from evaluation */
    STATS_REFRESH_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
    WORKERS: z.coerce.number().int().min(1).max(16).default(2),
  },
  { PORT: 3005 },
);

export type OperatorConfig = z.infer<typeof operatorConfigSchema>;
