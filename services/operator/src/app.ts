import type { Express } from 'express';
import type { ServiceRuntime } from '@quizmesh/platform';
import type { QuizController } from './controller';
import { FileQuizSource } from './file-source';

export interface OperatorState {
  controller: QuizController;
  /** undefined with the file source (nothing to elect: one process) */
  isLeader?: () => boolean;
}

/**
 * The operator's app: probes, and GET /api/v1/operator/status (every resource and its Ready
 * condition), which the gateway's /api/v1/status and people running it locally read.
 * Ready: the source has listed (or this replica is a standby, which is ready to take over).
 */
export function createOperatorApp(runtime: ServiceRuntime, state: OperatorState): Express {
  const { controller } = state;
  return runtime.createApp({
    readiness: {
      quizzes: async () => {
        const leading = state.isLeader?.() ?? true;
        if (leading && !controller.source.synced()) throw new Error('Quiz resources not listed yet');
        await Promise.resolve();
      },
    },
    routes: (app) => {
      app.get('/api/v1/operator/status', (_req, res) => {
        const source = controller.source;
        res.json({
          source: source.kind,
          leader: state.isLeader?.() ?? true,
          synced: source.synced(),
          counters: controller.counters,
          resources: controller.report(),
          ...(source instanceof FileQuizSource
            ? { events: source.events.slice(-20), problems: Object.fromEntries(source.problems) }
            : {}),
        });
      });
    },
  });
}
