import { telemetry } from './instrumentation';
import { loadConfigOrExit, ServiceRuntime } from '@quizmesh/platform';
import { operatorConfigSchema } from './config';
import { createOperatorApp } from './app';
import { QuizController } from './controller';
import { FileQuizSource } from './file-source';
import type * as KubeMain from './kube-main';
import { DaprQuizClient } from './quiz-client';

async function main() {
  const config = loadConfigOrExit('operator', operatorConfigSchema);
  const runtime = new ServiceRuntime({ service: 'operator', config, telemetry }).handleSignals();
  const logger = runtime.logger;
  const quiz = new DaprQuizClient(runtime.dapr, { quiz: config.QUIZ_APP_ID, evaluation: config.EVALUATION_APP_ID });
  const common = {
    quiz,
    logger,
    resyncMs: config.RESYNC_SECONDS * 1000,
    statsRefreshMs: config.STATS_REFRESH_SECONDS * 1000,
    workers: config.WORKERS,
  };

  if (config.QUIZ_SOURCE === 'files') {
    logger.info({ dir: config.QUIZ_DIR }, 'reconciling Quiz YAML from a folder');
    const controller = new QuizController({
      ...common,
      source: new FileQuizSource({ dir: config.QUIZ_DIR, logger, pollMs: config.QUIZ_POLL_MS }),
    });
    runtime.shutdown.onShutdown('controller', () => controller.stop());
    await runtime.listen(createOperatorApp(runtime, { controller }));
    await controller.start();
    return;
  }

  // Loaded here, not imported at the top: a folder of YAML (`npm start`) never pays for
  // @kubernetes/client-node, the largest module graph the operator has (decision 0990).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runOnKubernetes } = require('./kube-main') as typeof KubeMain;
  await runOnKubernetes(runtime, config, common);
}

main().catch((err: unknown) => {
  console.error('operator: failed to start:', err);
  process.exit(1);
});
