/**
 * The operator on Kubernetes: Quiz resources from the API server, with leader election. Loaded
 * by main.ts only when QUIZ_SOURCE is not `files`, so a laptop run (`npm start`, a folder of
 * YAML) never loads `@kubernetes/client-node` (about 50 MB RSS, decision 0990).
 */
import { KubeConfig } from '@kubernetes/client-node';
import type { ServiceRuntime } from '@quizmesh/platform';
import { createOperatorApp } from './app';
import type { OperatorConfig } from './config';
import { QuizController, type ControllerOptions } from './controller';
import { KubeQuizSource } from './kube-source';
import { LeaderElector } from './leader';

export async function runOnKubernetes(
  runtime: ServiceRuntime,
  config: OperatorConfig,
  common: Omit<ControllerOptions, 'source'>,
): Promise<void> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault(); // in a pod: the service account's token and CA
  const controller = new QuizController({
    ...common,
    source: new KubeQuizSource({
      kubeConfig,
      namespace: config.WATCH_NAMESPACE,
      logger: runtime.logger,
      reportingInstance: config.POD_NAME,
    }),
  });
  const elector = new LeaderElector({
    kubeConfig,
    namespace: config.WATCH_NAMESPACE,
    leaseName: config.LEASE_NAME,
    identity: config.POD_NAME,
    logger: runtime.logger,
    onStartedLeading: () => controller.start(),
    onStoppedLeading: () => controller.stop(),
  });
  // Last registered runs first: stop leading (and release the Lease) before the server drains.
  runtime.shutdown.onShutdown('leader election', () => elector.stop());
  await runtime.listen(createOperatorApp(runtime, { controller, isLeader: () => elector.isLeader() }));
  elector.start();
}
