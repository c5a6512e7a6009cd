/**
 * The chart's Dapr resources, rendered by `helm template` and mapped onto this machine, for the
 * local sidecars of a run on real backends (the e2e `chart` variant). What changes, and only this:
 * - in-cluster hosts become 127.0.0.1 (Redis, the SMTP relay), and the RabbitMQ connection string
 *   (read from the rendered Secret, as daprd would) becomes the run's own vhost;
 * - the `secretstores.kubernetes` store becomes a `secretstores.local.file` store of the same name
 *   (`multiValued`, so a secret is a map of keys like a Kubernetes Secret) holding the rendered
 *   Secrets; `auth.secretStore: kubernetes` points at it;
 * - state keys get the run's Dapr namespace (`keyPrefix: namespace`), the mail binding writes into
 *   the run's mailbox (`mailboxPath`, a local-sidecar extension), access-control policies name the
 *   run's namespace, and daprd's OTLP exporter is left out (no collector here).
 * Subscriptions and the Resiliency are used exactly as rendered.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderChart, type RenderOptions } from './helm';
import { asArray, asRecord, type KubeObject } from './objects';

export interface LocalRun {
  /** the Dapr namespace of the run (the sidecars' NAMESPACE) */
  namespace: string;
  /** amqp URL of the run's own vhost */
  rabbitmqUrl: string;
  /** where the mapped resources, configurations and secrets file are written */
  dir: string;
}

export interface LocalDaprResources {
  /** one folder with every Component, Subscription and Resiliency */
  resourcesPath: string;
  /** app id -> that app's Configuration (the chart renders one per app) */
  configPaths: Record<string, string>;
}

type MetadataEntry = { name: string; value?: string; secretKeyRef?: { name: string; key?: string } };

const LOCALHOST = '127.0.0.1';

function secretsOf(objects: KubeObject[]): Record<string, Record<string, string>> {
  const secrets: Record<string, Record<string, string>> = {};
  for (const object of objects.filter((o) => o.kind === 'Secret')) {
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(asRecord(object.data ?? {})))
      values[key] = Buffer.from(String(value), 'base64').toString('utf8');
    for (const [key, value] of Object.entries(asRecord(object.stringData ?? {}))) values[key] = String(value);
    secrets[object.metadata.name] = values;
  }
  return secrets;
}

function mapComponent(object: KubeObject, secretStore: string, secretsFile: string): KubeObject {
  const copy = structuredClone(object);
  const spec = asRecord(copy.spec);
  const metadata = asArray(spec.metadata) as MetadataEntry[];
  const set = (name: string, value: string): void => {
    const entry = metadata.find((m) => m.name === name);
    if (entry) {
      entry.value = value;
      delete entry.secretKeyRef;
    } else metadata.push({ name, value });
  };
  const type = String(spec.type);
  if (type === 'secretstores.kubernetes') {
    spec.type = 'secretstores.local.file';
    spec.metadata = [
      { name: 'secretsFile', value: secretsFile },
      { name: 'multiValued', value: 'true' },
    ];
    return copy;
  }
  if (type === 'state.redis') {
    set('redisHost', `${LOCALHOST}:6379`);
    set('keyPrefix', 'namespace');
  }
  if (type === 'bindings.smtp') {
    set('host', LOCALHOST);
    set('mailboxPath', 'mailbox');
  }
  spec.metadata = metadata;
  const auth = asRecord(copy.auth ?? {});
  if (auth.secretStore === 'kubernetes') auth.secretStore = secretStore;
  return copy;
}

function mapConfiguration(object: KubeObject, run: LocalRun): KubeObject {
  const copy = structuredClone(object);
  const spec = asRecord(copy.spec);
  if (spec.tracing !== undefined) {
    const tracing = asRecord(spec.tracing);
    delete tracing.otel;
  }
  const accessControl = spec.accessControl === undefined ? undefined : asRecord(spec.accessControl);
  for (const policy of asArray(accessControl?.policies ?? [])) asRecord(policy).namespace = run.namespace;
  return copy;
}

/** Renders the chart (default values unless told) and writes its Dapr resources mapped onto this machine. */
export async function chartDaprResourcesForLocalRun(
  run: LocalRun,
  options: RenderOptions = {},
): Promise<LocalDaprResources> {
  const objects = await renderChart(options);
  const resourcesPath = join(run.dir, 'chart-resources');
  mkdirSync(resourcesPath, { recursive: true });

  const secrets = secretsOf(objects);
  const rabbitmq = Object.entries(secrets).find(([, values]) => values.connectionString !== undefined);
  if (!rabbitmq) throw new Error('the rendered chart has no Secret with a RabbitMQ connectionString');
  rabbitmq[1].connectionString = run.rabbitmqUrl;
  // This machine's Redis has no password (the dev chart's Redis has one).
  for (const values of Object.values(secrets)) if (values.url?.startsWith('redis')) values.password = '';
  const secretsFile = join(run.dir, 'chart-secrets.json');
  writeFileSync(secretsFile, JSON.stringify(secrets, null, 2), { mode: 0o600 });

  // The chart's secretstores.kubernetes store keeps its name; only its type changes (mapComponent).
  const secretStore = objects.find((o) => o.kind === 'Component' && asRecord(o.spec).type === 'secretstores.kubernetes')
    ?.metadata.name;
  if (secretStore === undefined) throw new Error('the rendered chart has no secretstores.kubernetes Component');
  const documents: string[] = [];
  const configPaths: Record<string, string> = {};
  for (const object of objects) {
    if (!object.apiVersion.startsWith('dapr.io/')) continue;
    if (object.kind === 'Component') documents.push(JSON.stringify(mapComponent(object, secretStore, secretsFile)));
    else if (object.kind === 'Subscription' || object.kind === 'Resiliency') documents.push(JSON.stringify(object));
    else if (object.kind === 'Configuration') {
      const appId = object.metadata.name.replace(/^quizmesh-/, '');
      const path = join(run.dir, `chart-config-${appId}.yaml`);
      writeFileSync(path, JSON.stringify(mapConfiguration(object, run)));
      configPaths[appId] = path;
    }
  }
  // JSON is YAML: one document per resource.
  writeFileSync(join(resourcesPath, 'chart.yaml'), documents.join('\n---\n'));
  return { resourcesPath, configPaths };
}
