/**
 * The operator against the fake Kubernetes API server (@quizmesh/platform/testing FakeKubeApi) and
 * the real quiz service (its in-process harness: real PostgreSQL, real local sidecar). The operator
 * gets its own sidecar in the same local registry and calls quiz through it with the official SDK,
 * as in production; the controllers are in-process, any number of them (replicas).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Dapr } from '@quizmesh/platform';
import { captureLogLines, Cleanups, FakeKubeApi } from '@quizmesh/platform/testing';
import { createLogger } from '@quizmesh/platform';
import { QUIZ_API_VERSION, QUIZ_RESOURCE } from '@quizmesh/contracts/quiz-resource';
import { startSidecar } from '@quizmesh/sidecar';
import { startQuiz, type QuizUnderTest } from '../../quiz/test/harness';
import { QuizController } from '../src/controller';
import { KubeQuizSource } from '../src/kube-source';
import { LeaderElector } from '../src/leader';
import { DaprQuizClient } from '../src/quiz-client';

export const NAMESPACE = 'quizzes-test';
export const QUIZZES = `apis/${QUIZ_RESOURCE.group}/${QUIZ_RESOURCE.version}/${QUIZ_RESOURCE.plural}`;
export const EVENTS = 'api/v1/events';
export const LEASES = 'apis/coordination.k8s.io/v1/leases';

export function kubeConfigFor(api: FakeKubeApi): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: api.url, skipTLSVerify: true }],
    users: [{ name: 'operator', token: 'test-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'operator', namespace: NAMESPACE }],
    currentContext: 'fake',
  });
  return kc;
}

export interface Replica {
  name: string;
  controller: QuizController;
  source: KubeQuizSource;
  elector: LeaderElector;
  stop(): Promise<void>;
}

export interface ReplicaOptions {
  leaseDurationSeconds?: number;
  /** the namespace it watches (and holds its Lease in) */
  namespace?: string;
  /** the quiz service's app id: a wrong one is a quiz service that is down */
  quizAppId?: string;
}

export interface OperatorWorld {
  api: FakeKubeApi;
  quiz: QuizUnderTest;
  dapr: Dapr;
  logLines: string[];
  replica(name: string, options?: ReplicaOptions): Replica;
  stop(): Promise<void>;
}

export async function startOperatorWorld(): Promise<OperatorWorld> {
  const cleanups = new Cleanups();
  try {
    const api = await new FakeKubeApi({
      customResources: [
        {
          group: QUIZ_RESOURCE.group,
          version: QUIZ_RESOURCE.version,
          plural: QUIZ_RESOURCE.plural,
          kind: QUIZ_RESOURCE.kind,
        },
      ],
    }).start();
    cleanups.push(() => api.stop());
    const quiz = await startQuiz({ backend: 'postgres' });
    cleanups.push(() => quiz.stop());
    const dir = mkdtempSync(join(tmpdir(), 'qm-operator-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const sidecar = await startSidecar({
      appId: 'operator',
      daprHttpPort: 0,
      resourcesPaths: [dir],
      registryDir: quiz.registryDir,
      logLevel: 'silent',
      env: {},
    });
    cleanups.push(() => sidecar.close());
    await sidecar.ready;
    const { lines: logLines, destination } = captureLogLines();
    const logger = createLogger({ service: 'operator', level: 'debug', destination });
    const dapr = new Dapr({ host: '127.0.0.1', httpPort: sidecar.httpPort, logger });
    cleanups.push(() => dapr.close());
    const kubeConfig = kubeConfigFor(api);

    const replica = (name: string, options: ReplicaOptions = {}): Replica => {
      const namespace = options.namespace ?? NAMESPACE;
      const client = new DaprQuizClient(dapr, { quiz: options.quizAppId ?? 'quiz', evaluation: 'evaluation' });
      const source = new KubeQuizSource({
        kubeConfig,
        namespace,
        logger: logger.child({ replica: name }),
        reportingInstance: name,
      });
      const controller = new QuizController({
        source,
        quiz: client,
        logger: logger.child({ replica: name }),
        resyncMs: 1_000,
        statsRefreshMs: 60_000,
        queue: { baseDelayMs: 100, maxDelayMs: 1_000 },
      });
      const leaseDurationSeconds = options.leaseDurationSeconds ?? 3;
      const elector = new LeaderElector({
        kubeConfig,
        namespace,
        leaseName: 'quizmesh-operator',
        identity: name,
        logger: logger.child({ replica: name }),
        leaseDurationSeconds,
        renewDeadlineMs: leaseDurationSeconds * 1000 - 1000,
        retryPeriodMs: 200,
        onStartedLeading: () => controller.start(),
        onStoppedLeading: () => controller.stop(),
      });
      elector.start();
      const stop = async () => {
        await elector.stop();
        await controller.stop();
      };
      cleanups.push(stop);
      return { name, controller, source, elector, stop };
    };
    return { api, quiz, dapr, logLines, replica, stop: () => cleanups.run() };
  } catch (err) {
    await cleanups.run();
    throw err;
  }
}

export function quizObject(name: string, spec: Record<string, unknown>) {
  return { apiVersion: QUIZ_API_VERSION, kind: QUIZ_RESOURCE.kind, metadata: { name, namespace: NAMESPACE }, spec };
}

export function quizSpec(overrides: Record<string, unknown> = {}) {
  return {
    title: 'Capitals of Europe',
    description: 'Where the governments sit.',
    tags: ['geography'],
    difficulty: 'easy',
    timeLimitSeconds: 120,
    publish: true,
    questions: [
      {
        type: 'single',
        text: 'The capital of France?',
        points: 1,
        options: [
          { text: 'Paris', correct: true },
          { text: 'Lyon', correct: false },
        ],
      },
    ],
    ...overrides,
  };
}

/** Polls until `check` stops throwing (its last error explains a timeout). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
