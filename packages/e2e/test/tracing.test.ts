/**
 * One trace across the event flow: a submission through the gateway with a known `traceparent`
 * must produce spans from gateway, quiz, evaluation, identity and notification under that trace
 * id (the path gateway → quiz → outbox relay → pub/sub → evaluation → outbox relay → pub/sub →
 * identity, quiz, notification → pub/sub → the gateway's live stream), exported over OTLP/HTTP to a receiver in this test, and the services' log
 * lines for it must carry the same `trace_id`.
 */
import { randomBytes } from 'node:crypto';
import {
  OtlpReceiver,
  createCast,
  eventually,
  missing,
  quizBody,
  startE2EPlatform,
  type Account,
  type AuthorQuiz,
  type E2EPlatform,
} from '../src';

const TRACED_SERVICES = ['gateway', 'identity', 'quiz', 'evaluation', 'notification'];

let receiver: OtlpReceiver;
let e2e: E2EPlatform;
let player: Account;
let quiz: AuthorQuiz;

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
  // Export every 200 ms instead of every 5 s, so the spans arrive while the test waits.
  const telemetry = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' };
  e2e = await startE2EPlatform({
    backends: 'embedded',
    serviceEnv: Object.fromEntries(TRACED_SERVICES.map((s) => [s, telemetry])),
  });
  const cast = await createCast(e2e.gateway, 1, 'trace');
  player = cast.players[0] as Account;
  quiz = await e2e.gateway.publishQuiz(cast.author, quizBody('Traced'));
}, 300_000);

afterAll(async () => {
  await e2e?.stop();
  await receiver?.close();
}, 120_000);

describe('tracing across the event flow', () => {
  it('follows one submission from the gateway through quiz, evaluation and notification, in spans and in log lines', async () => {
    const attempt = await e2e.gateway.startAttempt(player, quiz.id);
    const traceId = randomBytes(16).toString('hex');
    const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const submitted = await e2e.gateway.call('POST', `/api/v1/attempts/${attempt.id}/submit`, {
      token: player.token,
      body: { answers: [] },
      headers: { traceparent },
    });
    expect(submitted.status).toBe(202);

    // Each hop, as the HTTP server span of the route that handled it: the submit in quiz, the
    // delivery of every event it caused (subscription routes), back to the gateway's live stream.
    const hops: Array<[service: string, span: string]> = [
      ['gateway', 'POST'],
      ['quiz', 'POST /api/v1/attempts/:id/submit'],
      ['evaluation', 'POST /events/quiz.completed'],
      ['identity', 'POST /events/score.calculated'],
      ['quiz', 'POST /events/score.calculated'],
      ['notification', 'POST /events/score.calculated'],
      ['gateway', 'POST /events/leaderboard.updated'],
      ['gateway', 'POST /events/notification.created'],
    ];
    const services = await eventually(
      `every hop's span in trace ${traceId}`,
      async () => {
        const found = receiver.servicesOf(traceId);
        const absent = hops.filter(([service, span]) => !found.get(service)?.includes(span));
        if (absent.length > 0) {
          throw missing(
            `missing ${absent.map(([service, span]) => `${service} "${span}"`).join(', ')} (rejected exports: ${receiver.rejected.length})`,
          );
        }
        return found;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect([...services.keys()].sort()).toEqual([...TRACED_SERVICES].sort());
    expect(receiver.rejected).toEqual([]);

    // The same trace id in the services' own log lines (pino `trace_id`).
    for (const service of TRACED_SERVICES) {
      const lines = await eventually(`a ${service} log line with trace_id ${traceId}`, async () => {
        const matching = e2e.logLines(service).filter((l) => l.trace_id === traceId);
        if (matching.length === 0) throw missing('no such line');
        return matching;
      });
      // correlated by OpenTelemetry (a span id of the request's span), not copied from a header
      expect(lines.every((l) => l.service === service && /^[0-9a-f]{16}$/.test(String(l.span_id)))).toBe(true);
    }
  });
});
