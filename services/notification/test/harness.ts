/**
 * Runs notification in-process as in production minus the gateway: the real local Dapr
 * sidecar (in-process, port 0) with in-memory pub/sub, a state store (state.in-memory, or
 * state.redis under a key prefix of its own), the `mail` binding (bindings.smtp) writing into
 * a temporary mailbox folder, the production Subscriptions from components/common and a fast
 * Resiliency inbound policy; the app on a port-0 server.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSidecar, type RunningSidecar } from '@quizmesh/sidecar';
import { CALLER_APP_HEADER, type ServiceRuntime } from '@quizmesh/platform';
import {
  eventually,
  gatewayHeaders,
  deleteRedisKeys,
  publishCloudEvent,
  startHarness,
  type HarnessContext,
  uniqueName,
} from '@quizmesh/platform/testing';
import type { EventContract } from '@quizmesh/contracts/events';
import { notificationConfigSchema, type NotificationConfig } from '../src/config';
import { createNotification, type Notification } from '../src/notification';

const TEST_SUBSCRIBER_PATH = '/__test/notification-created';

export type StateBackend = 'state.in-memory' | 'state.redis';

export const SUBSCRIPTIONS_FILE = join(
  __dirname,
  '..',
  '..',
  '..',
  'components',
  'common',
  'subscriptions-notification.yaml',
);

export interface Mail {
  file: string;
  to: string;
  subject: string;
  /** the Content-Type header */
  contentType: string;
  /** the decoded body as sent (HTML: Dapr's bindings.smtp sends text/html) */
  html: string;
  /** what a reader sees: the body without its markup, entities decoded, a line per line break */
  text: string;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** The text an HTML mail shows (enough for the markup mailHtml writes: head dropped, p and br as line breaks). */
function textOf(html: string): string {
  return html
    .replace(/<head>[\s\S]*<\/head>/, '')
    .replace(/<br>\n?/g, '\n')
    .replace(/<\/p>\n?/g, '\n\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity)
    .trim();
}

export interface NotificationUnderTest {
  url: string;
  runtime: ServiceRuntime;
  config: NotificationConfig;
  sidecar: RunningSidecar;
  service: Notification;
  logLines: string[];
  /** notification.created events notification published, as a subscriber receives them */
  pushed: Array<Record<string, unknown>>;
  /** the mails in the mailbox folder, oldest first */
  mails(): Mail[];
  /** publishes `data` as a CloudEvent of `contract` with this id, through the sidecar */
  publish(contract: EventContract, id: string, data: unknown): Promise<void>;
  /** fetch against the app as the gateway would call it, for `userId` (undefined: anonymous) */
  call(
    method: string,
    path: string,
    userId?: string,
    roles?: string,
  ): Promise<{ status: number; type: string; json: unknown }>;
  /** resolves once notification logged `message` for this event id */
  handled(eventId: string, message: string, times?: number): Promise<void>;
  stop(): Promise<void>;
}

function resources(harness: HarnessContext, backend: StateBackend, keyPrefix: string, mailbox: string): string {
  const folder = harness.resources();
  folder.inMemoryPubsub();
  folder.stateStore(backend === 'state.redis' ? keyPrefix : undefined);
  folder.write(
    'mail.yaml',
    `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: mail }
spec:
  type: bindings.smtp
  version: v1
  metadata:
    - { name: host, value: "127.0.0.1" }
    - { name: port, value: "1025" }
    - { name: mailboxPath, value: ${JSON.stringify(mailbox)} }
    - { name: emailFrom, value: "Quizmesh <no-reply@quizmesh.local>" }
scopes: [notification]
`,
  );
  // Quick retries: a duplicate delivery waiting for a concurrent one to finish its mail comes
  // back within milliseconds; a dropped event reaches its dead-letter topic at once.
  folder.write(
    'resiliency.yaml',
    `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: { name: test }
spec:
  policies:
    retries:
      fast: { policy: constant, duration: 20ms, maxRetries: 50 }
  targets:
    components:
      pubsub:
        inbound: { retry: fast }
`,
  );
  // What notification publishes reaches a test subscriber (the gateway's role).
  folder.subscriptions('test-subscriber.yaml', 'notification', [
    { name: 'test-notification-created', topic: 'notification.created', route: TEST_SUBSCRIBER_PATH },
  ]);
  // The production Subscriptions, unchanged.
  folder.copy('subscriptions-notification.yaml', SUBSCRIPTIONS_FILE);
  return folder.path;
}

/** Quoted-printable soft breaks and escapes, as nodemailer writes longer text bodies. */
function decodeQuotedPrintable(text: string): string {
  return Buffer.from(
    text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  ).toString('utf8');
}

function readMail(file: string): Mail {
  const raw = readFileSync(file, 'utf8');
  // The local mailbox writes Unix line ends; a relay's copy has CRLF.
  const blank = /\r?\n\r?\n/.exec(raw);
  const split = blank?.index ?? raw.length;
  const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ');
  const header = (name: string) => new RegExp(`^${name}: (.*?)\r?$`, 'im').exec(head)?.[1] ?? '';
  const body = raw.slice(split + (blank?.[0].length ?? 0));
  const text = /quoted-printable/i.test(header('Content-Transfer-Encoding')) ? decodeQuotedPrintable(body) : body;
  const html = text.replace(/\r\n/g, '\n');
  return {
    file,
    to: header('To'),
    subject: header('Subject'),
    contentType: header('Content-Type'),
    html,
    text: textOf(html),
  };
}

export async function startNotification(backend: StateBackend): Promise<NotificationUnderTest> {
  return startHarness('notification', async (harness) => {
    const mailbox = join(harness.dir, 'mailbox');
    // One Redis key prefix per run: parallel runs and earlier runs never share inboxes.
    const keyPrefix = uniqueName('qm_notification');
    const pushed: Array<Record<string, unknown>> = [];
    const appPort = await harness.appPort({
      capturePaths: [TEST_SUBSCRIBER_PATH],
      onCapture: ({ event }) => pushed.push(event),
    });
    const sidecar = await startSidecar(
      harness.sidecarOptions({
        appId: 'notification',
        appPort: appPort.port,
        resourcesPath: resources(harness, backend, keyPrefix, mailbox),
      }),
    );
    harness.cleanups.push(() => sidecar.close());

    // The runtime's shutdown closes the Dapr client, as in production.
    const { config, runtime, logLines } = harness.runtime({
      service: 'notification',
      schema: notificationConfigSchema,
      daprHttpPort: sidecar.httpPort,
      env: { INBOX_LIMIT: '5' },
    });
    const service = createNotification(runtime, config);
    appPort.setHandler(service.app);
    // Leave nothing behind in the state store (Redis): every key of this run has its prefix.
    harness.cleanups.push(async () => {
      // every dead letter, resolved ones included (they are kept after a discard: decision 0781)
      await service.deadLetters.store.clear();
      if (backend === 'state.redis') await deleteRedisKeys(`${keyPrefix}||*`);
    });
    await sidecar.ready;
    const { url } = appPort;

    const handledCount = (eventId: string, message: string) =>
      logLines.filter((line) => {
        const parsed = JSON.parse(line) as { eventId?: unknown; msg?: unknown };
        return parsed.eventId === eventId && parsed.msg === message;
      }).length;

    return {
      url,
      runtime,
      config,
      sidecar,
      service,
      logLines,
      pushed,
      mails: () =>
        readdirSync(mailbox)
          .filter((f) => f.endsWith('.eml'))
          .sort()
          .map((f) => readMail(join(mailbox, f))),
      publish: (contract, id, data) => publishCloudEvent(runtime, 'pubsub', contract, id, data),
      async call(method, path, userId, roles = 'player') {
        const headers =
          userId === undefined ? { [CALLER_APP_HEADER]: 'gateway' } : gatewayHeaders(userId, roles.split(','));
        const res = await fetch(`${url}${path}`, { method, headers });
        const text = await res.text();
        return {
          status: res.status,
          type: res.headers.get('content-type') ?? '',
          json: text ? (JSON.parse(text) as unknown) : undefined,
        };
      },
      async handled(eventId, message, times = 1) {
        await eventually(() => handledCount(eventId, message) >= times);
      },
    };
  });
}
