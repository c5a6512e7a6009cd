/**
 * The operator end to end, as `npm start` runs it: the launcher starts every service with its
 * sidecar, the operator reconciles a folder of Quiz YAML (its file source) into the real quiz
 * service by Dapr service invocation; players see the result through the gateway.
 * Create → published, edit → new version, drift after a direct database change → repaired, quiz
 * service down → reported and retried, back → caught up, file deleted while quiz is down →
 * archived once it is back. (Two replicas, one leader: services/operator/test/controller.test.ts.)
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { authorQuizSchema } from '@quizmesh/contracts/quiz-api';
import { E2E_SERVICES, createCast, eventually, missing, startE2EPlatform, type E2EPlatform } from '../src';

jest.setTimeout(300_000);

const dir = mkdtempSync(join(tmpdir(), 'qm-e2e-quizzes-'));
const file = join(dir, 'capitals.yaml');
let e2e: E2EPlatform;

function writeQuiz(title: string, publish = true): void {
  writeFileSync(
    file,
    stringify({
      apiVersion: 'quizmesh.io/v1alpha1',
      kind: 'Quiz',
      metadata: { name: 'capitals' },
      spec: {
        title,
        difficulty: 'easy',
        timeLimitSeconds: 60,
        publish,
        questions: [
          {
            type: 'single',
            text: 'The capital of Italy?',
            options: [
              { text: 'Rome', correct: true },
              { text: 'Milan', correct: false },
            ],
          },
        ],
      },
    }),
  );
}

interface OperatorStatus {
  resources: Array<{
    key: string;
    quizId?: string;
    publishedVersion?: number;
    players?: number;
    topScore?: number;
    ready: string;
    reason?: string;
  }>;
  events?: Array<{ resource: string; type: string; reason: string }>;
}

async function operatorStatus(): Promise<OperatorStatus> {
  const endpoint = e2e.platform.endpoints.operator;
  if (!endpoint) throw new Error('the operator is not running');
  // The app answers only its sidecar's token (as in a pod); the test presents it.
  const res = await fetch(`${endpoint.appUrl}/api/v1/operator/status`, {
    headers: { 'dapr-api-token': endpoint.appApiToken },
  });
  if (res.status !== 200) throw missing(`operator status ${res.status}`);
  return (await res.json()) as OperatorStatus;
}

async function capitals() {
  const found = (await operatorStatus()).resources.find((r) => r.key === 'default/capitals');
  if (!found) throw missing('default/capitals in the operator status');
  return found;
}

async function playable(quizId: string): Promise<{ version: number; title: string; status: string }> {
  const res = await fetch(`${e2e.platform.gatewayUrl}/api/v1/quizzes/${quizId}`);
  if (res.status !== 200) throw missing(`GET quiz ${res.status}`);
  return (await res.json()) as { version: number; title: string; status: string };
}

async function publishedAs(quizId: string, version: number, title: string): Promise<void> {
  await eventually(`version ${version} "${title}" published`, async () => {
    const quiz = await playable(quizId);
    if (quiz.version !== version || quiz.title !== title) throw missing(`v${quiz.version} "${quiz.title}"`);
  });
}

let quizId = '';

beforeAll(async () => {
  writeQuiz('Capitals');
  e2e = await startE2EPlatform({
    backends: 'embedded',
    services: [...E2E_SERVICES, 'operator'],
    serviceEnv: { operator: { QUIZ_DIR: dir, QUIZ_POLL_MS: '200', RESYNC_SECONDS: '1', STATS_REFRESH_SECONDS: '1' } },
  });
});
afterAll(async () => {
  await e2e?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

it('publishes the quiz of a new file; the gateway status includes the operator', async () => {
  const resource = await eventually('capitals ready', async () => {
    const found = await capitals();
    if (found.ready !== 'True' || !found.quizId) throw missing(`ready ${found.ready}`);
    return found;
  });
  quizId = resource.quizId ?? '';
  expect(resource.publishedVersion).toBe(1);
  expect(await playable(quizId)).toMatchObject({ version: 1, title: 'Capitals', status: 'published' });
  const status = (await (await fetch(`${e2e.platform.gatewayUrl}/api/v1/status`)).json()) as {
    services: Array<{ appId: string; status: string; details?: OperatorStatus }>;
  };
  const operator = status.services.find((s) => s.appId === 'operator');
  expect(operator?.status).toBe('ready');
  expect(operator?.details?.resources).toContainEqual(
    expect.objectContaining({ key: 'default/capitals', ready: 'True', quizId }),
  );
});

it("its sidecar lets it call only the routes it needs: quiz's other routes, evaluation's other reads and identity answer 403", async () => {
  const endpoint = e2e.platform.endpoints.operator;
  if (!endpoint) throw new Error('the operator is not running');
  const invoke = async (app: string, method: string, verb = 'GET') => {
    const res = await fetch(`http://127.0.0.1:${endpoint.sidecarPort}/v1.0/invoke/${app}/method/${method}`, {
      method: verb,
      headers: { 'dapr-api-token': endpoint.daprApiToken, 'content-type': 'application/json' },
      ...(verb === 'GET' || verb === 'DELETE' ? {} : { body: '{}' }),
    });
    return { call: `${verb} ${app} ${method}`, status: res.status };
  };
  const refused = [
    await invoke('quiz', 'api/v1/quizzes'),
    await invoke('quiz', `api/v1/quizzes/${quizId}`),
    await invoke('quiz', `api/v1/quizzes/${quizId}`, 'DELETE'),
    await invoke('quiz', `api/v1/quizzes/${quizId}/attempts`, 'POST'),
    await invoke('quiz', `api/v1/quizzes/${quizId}/publish/extra`, 'POST'),
    await invoke('quiz', `internal/v1/quizzes/${quizId}/versions/1/quiz-published`),
    await invoke('evaluation', 'api/v1/leaderboards/global'),
    await invoke('identity', 'api/v1/users/me'),
  ];
  expect(refused).toEqual(refused.map(({ call }) => ({ call, status: 403 })));
  // What it does need still passes its sidecar (the callee answers).
  expect(await invoke('evaluation', `api/v1/leaderboards/quiz/${quizId}?limit=1`)).toEqual({
    call: `GET evaluation api/v1/leaderboards/quiz/${quizId}?limit=1`,
    status: 200,
  });
});

it('refuses a public edit of the managed quiz with 409 naming the resource; players and top score come from evaluation', async () => {
  const { admin, players } = await createCast(e2e.gateway, 1, 'operator');
  const headers = { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' };
  const edit = await fetch(`${e2e.platform.gatewayUrl}/api/v1/quizzes/${quizId}`, {
    method: 'PATCH',
    headers,
    body: JSON.stringify({ title: 'Edited by hand' }),
  });
  expect(edit.status).toBe(409);
  expect(edit.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(((await edit.json()) as { detail: string }).detail).toContain('default/capitals');

  const keys = await fetch(`${e2e.platform.gatewayUrl}/api/v1/quizzes/${quizId}/versions/1`, { headers });
  const quiz = authorQuizSchema.parse(await keys.json());
  await e2e.gateway.play(players[0] ?? admin, quiz, 1);
  await eventually('players and top score in the status', async () => {
    const found = await capitals();
    if (found.players !== 1 || found.topScore !== 1) throw missing(`players ${found.players} top ${found.topScore}`);
  });
});

it('publishes an edited file as the next version within seconds', async () => {
  writeQuiz('Capitals of Europe');
  await publishedAs(quizId, 2, 'Capitals of Europe');
});

it('repairs drift: a direct change in the quiz database is replaced by the next version', async () => {
  await e2e.query('quiz', `update "QuizVersion" set title = 'Tampered' where "quizId" = $1 and version = 2`, [quizId]);
  await publishedAs(quizId, 3, 'Capitals of Europe');
});

it('reports the quiz service down, retries, and catches up when it is back', async () => {
  await e2e.platform.stopService('quiz');
  writeQuiz('Capitals of the World');
  await eventually('QuizServiceUnavailable reported', async () => {
    const found = await capitals();
    if (found.reason !== 'QuizServiceUnavailable') throw missing(`reason ${found.reason}`);
  });
  await e2e.platform.startService('quiz');
  await publishedAs(quizId, 4, 'Capitals of the World');
});

it('archives the quiz of a deleted file, waiting for the quiz service if it is down', async () => {
  await e2e.platform.stopService('quiz');
  unlinkSync(file);
  // The finalizer holds the resource until the quiz is archived.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect((await capitals()).key).toBe('default/capitals');
  await e2e.platform.startService('quiz');
  await eventually('capitals gone from the operator', async () => {
    const { resources } = await operatorStatus();
    if (resources.some((r) => r.key === 'default/capitals')) throw missing('still there');
  });
  expect(await playable(quizId)).toMatchObject({ status: 'archived' });
  const rows = await e2e.query<{ status: string }>('quiz', `select status::text from "Quiz" where id = $1`, [quizId]);
  expect(rows).toEqual([{ status: 'archived' }]);
});
