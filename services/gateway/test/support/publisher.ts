/**
 * A sidecar-only app (evaluation, notification, quiz) that publishes events as that service's
 * outbox relay would, through its own real sidecar on the tests' pub/sub components.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dapr, createLogger } from '@quizmesh/platform';
import { startSidecar, type RunningSidecar } from '@quizmesh/sidecar';
import type { EventContract } from '@quizmesh/contracts/events';

export function cloudEvent(contract: EventContract, id: string, data: unknown, source: string) {
  return { specversion: '1.0', id, source, type: contract.type, datacontenttype: 'application/json', data };
}

/** A sidecar-only app (evaluation, notification) that publishes as that service would. */
export interface Publisher {
  publish(contract: EventContract, id: string, data: unknown): Promise<void>;
  close(): Promise<void>;
}

export async function startPublisher(appId: string, resourcesDir: string): Promise<Publisher> {
  const registryDir = mkdtempSync(join(tmpdir(), 'qm-gateway-publisher-'));
  const sidecar: RunningSidecar = await startSidecar({
    appId,
    daprHttpPort: 0,
    resourcesPaths: [resourcesDir],
    registryDir,
    logLevel: 'silent',
    env: {},
  });
  await sidecar.ready;
  const dapr = new Dapr({
    host: '127.0.0.1',
    httpPort: sidecar.httpPort,
    logger: createLogger({ service: appId, level: 'silent' }),
  });
  return {
    publish: (contract, id, data) =>
      dapr.publish('pubsub', contract.topic, cloudEvent(contract, id, data, appId), {
        contentType: 'application/cloudevents+json',
      }),
    close: async () => {
      await dapr.close();
      await sidecar.close();
      rmSync(registryDir, { recursive: true, force: true });
    },
  };
}
