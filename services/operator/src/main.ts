import { telemetry } from './instrumentation';
import { KubeConfig } from '@kubernetes/client-node';
import { loadConfigOrExit, ServiceRuntime } from '@quizmesh/platform';
import { operatorConfigSchema } from './config';
import { createOperatorApp } from './app';
import { QuizController } from './controller';
import { FileQuizSource } from './file-source';
import { KubeQuizSource } from './kube-source';
import { LeaderElector } from './leader';
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

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault(); // in a pod: the service account's token and CA
  const controller = new QuizController({
    ...common,
    source: new KubeQuizSource({
      kubeConfig,
      namespace: config.WATCH_NAMESPACE,
      logger,
      reportingInstance: config.POD_NAME,
    }),
  });
  const elector = new LeaderElector({
    kubeConfig,
    namespace: config.WATCH_NAMESPACE,
    leaseName: config.LEASE_NAME,
    identity: config.POD_NAME,
    logger,
    onStartedLeading: () => controller.start(),
    onStoppedLeading: () => controller.stop(),
  });
  // Last registered runs first: stop leading (and release the Lease) before the server drains.
  runtime.shutdown.onShutdown('leader election', () => elector.stop());
  await runtime.listen(createOperatorApp(runtime, { controller, isLeader: () => elector.isLeader() }));
  elector.start();
}

main().catch((err: unknown) => {
  console.error('operator: failed to start:', err);
  process.exit(1);
});
