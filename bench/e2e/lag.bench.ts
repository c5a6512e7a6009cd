/**
 * Submit → leaderboard visible, on real backends (PostgreSQL, Redis, RabbitMQ; the run's own
 * databases, keys and vhost), the whole platform started by the launcher as `npm start`.
 *
 * Open loop: submissions through the gateway at a fixed rate, each sent at its scheduled time
 * whether or not earlier ones were answered. Two phases in one run: a light one
 * (BENCH_LIGHT_SUBMISSIONS 300 at BENCH_LIGHT_RATE 20/s, what the machine sustains) and the
 * target (BENCH_SUBMISSIONS 2,000 at BENCH_RATE 200/s; the aim is p99 ≤ 50 ms). Every submission
 * is a player's first attempt at one of many quizzes (10 players per quiz), so each one puts its
 * player on that quiz's board and makes evaluation publish leaderboard.updated. Lag = from the
 * 202 to the moment an SSE client on GET /api/v1/stream receives the quiz board's `leaderboard`
 * event ranking that player. The attempts are started beforehand (not measured).
 *
 * Where the time goes, from wall-clock timestamps the services write: 202 → scored (quiz's
 * outbox relay, RabbitMQ, evaluation's scoring statement: evaluation's calculatedAt), scored →
 * on the stream (evaluation's outbox relay, RabbitMQ, the gateway, SSE), and the two outboxes'
 * written → marked-sent times (an upper bound of the relays' share: a round's rows are marked by
 * the next round's claim, at the next wake or within a second),
 * and how fast one relay can go: publishes one after another through a sidecar to RabbitMQ.
 * Prints the figures and writes bench/results/e2e-lag.json.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus, loadavg } from 'node:os';
import {
  SseClient,
  answersFor,
  createCast,
  quizBody,
  startE2EPlatform,
  type Account,
  type AuthorQuiz,
  type E2EPlatform,
} from '@quizmesh/e2e';
import { cpuPerSubmission, cpuSnapshot, platformNodePids } from './cpu';
import { summary } from '../stats';
import { writeResult } from './stats';

const PHASES = [
  {
    name: 'light',
    rate: Number(process.env.BENCH_LIGHT_RATE ?? 20),
    submissions: Number(process.env.BENCH_LIGHT_SUBMISSIONS ?? 300),
  },
  {
    name: 'target',
    rate: Number(process.env.BENCH_RATE ?? 200),
    submissions: Number(process.env.BENCH_SUBMISSIONS ?? 2_000),
  },
];
/**
 * Submissions at the light rate before the light phase, measured as phase `warmup` but not
 * compared: the first few hundred run through V8's interpreter and baseline compiler, so the
 * light phase after them measures the code as it runs all day. 0 skips it.
 */
const WARMUP_SUBMISSIONS = Number(process.env.BENCH_WARMUP_SUBMISSIONS ?? 300);
const PLAYERS = 10;
/** `--cpu-prof=DIR`: V8 CPU profiles of every app and sidecar during the light phase (cpu-profile.cjs) */
const CPU_PROFILE_DIR = process.argv.find((a) => a.startsWith('--cpu-prof='))?.slice('--cpu-prof='.length);
const AIM_P99_MS = 50;
/** after the last submission, how long to wait for the stragglers before counting them as never seen */
const DRAIN_MS = 60_000;
/** publishes timed one after another through a sidecar, as an outbox relay sends its batch */
const SERIAL_PUBLISHES = 300;

interface Submission {
  player: Account;
  quiz: AuthorQuiz;
  attemptId: string;
  scheduledAt: number;
  sentAt?: number;
  acceptedAt?: number;
  acceptedWall?: number;
  visibleAt?: number;
  error?: string;
}

async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

const keyOf = (quizId: string, userId: string) => `${quizId}/${userId}`;

async function prepare(e2e: E2EPlatform, author: Account, players: Account[], count: number, label: string) {
  const quizzes: AuthorQuiz[] = [];
  await inBatches(
    Array.from({ length: Math.ceil(count / players.length) }, (_, i) => i),
    8,
    async (i) => {
      quizzes.push(await e2e.gateway.publishQuiz(author, quizBody(`Bench ${label} ${i}`)));
    },
  );
  const pairs = quizzes.flatMap((quiz) => players.map((player) => ({ player, quiz }))).slice(0, count);
  const submissions: Submission[] = [];
  await inBatches(pairs, 16, async ({ player, quiz }) => {
    const attempt = await e2e.gateway.startAttempt(player, quiz.id);
    submissions.push({ player, quiz, attemptId: attempt.id, scheduledAt: 0 });
  });
  return submissions;
}

/** The figures this run is compared with: the committed result (git HEAD), else the file as it is. */
function previousResult(): { date: string; phases: Record<string, PhaseResult> } | undefined {
  const path = 'bench/results/e2e-lag.json';
  try {
    const root = join(__dirname, '..', '..');
    const text = (() => {
      try {
        return execFileSync('git', ['show', `HEAD:${path}`], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
      } catch {
        return readFileSync(join(root, path), 'utf8');
      }
    })();
    return JSON.parse(text) as { date: string; phases: Record<string, PhaseResult> };
  } catch {
    return undefined;
  }
}

/** pids of the PostgreSQL backends serving this run's databases (its connection pools). */
async function runBackends(e2e: E2EPlatform): Promise<Set<number>> {
  const databases = Object.values(e2e.platform.endpoints).flatMap((e) =>
    e.databaseUrl ? [new URL(e.databaseUrl).pathname.slice(1)] : [],
  );
  const [service] = Object.entries(e2e.platform.endpoints).find(([, e]) => e.databaseUrl) ?? [];
  if (!service) return new Set();
  const rows = await e2e.query<{ pid: number }>(
    service,
    'select pid from pg_stat_activity where datname = any($1::text[]) and pid <> pg_backend_pid()',
    [databases],
  );
  return new Set(rows.map((r) => r.pid));
}

async function measure(
  e2e: E2EPlatform,
  submissions: Submission[],
  rate: number,
  firstRanked: Map<string, number>,
  profile = false,
) {
  const profiled = profile ? platformNodePids(e2e.platform.pids) : [];
  for (const pid of profiled) process.kill(pid, 'SIGUSR2');
  const loadBefore = Number(loadavg()[0]?.toFixed(2));
  const backendsBefore = await runBackends(e2e);
  const cpuBefore = cpuSnapshot(e2e.platform.pids, backendsBefore);
  const start = performance.now() + 100;
  const interval = 1000 / rate;
  await Promise.all(
    submissions.map(async (s, i) => {
      s.scheduledAt = start + i * interval;
      const delay = s.scheduledAt - performance.now();
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      s.sentAt = performance.now();
      try {
        await e2e.gateway.submit(s.player, s.attemptId, answersFor(s.quiz, 1 + (i % 3)));
        s.acceptedAt = performance.now();
        s.acceptedWall = Date.now();
      } catch (err) {
        s.error = err instanceof Error ? err.message : String(err);
      }
    }),
  );
  const lastAccepted = Math.max(...submissions.map((s) => s.acceptedAt ?? 0));
  const firstSent = Math.min(...submissions.map((s) => s.sentAt ?? Infinity));
  const deadline = Date.now() + DRAIN_MS;
  const unseen = () =>
    submissions.filter((s) => s.acceptedAt !== undefined && !firstRanked.has(keyOf(s.quiz.id, s.player.id))).length;
  while (unseen() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // Backends opened during the phase count whole (they started in it); closed ones are missed.
  const cpuAfter = cpuSnapshot(e2e.platform.pids, new Set([...backendsBefore, ...(await runBackends(e2e))]));
  for (const pid of profiled) process.kill(pid, 'SIGUSR2');
  for (const s of submissions) {
    const ranked = firstRanked.get(keyOf(s.quiz.id, s.player.id));
    // An event can arrive before its 202 is read: that counts as a lag of 0.
    if (ranked !== undefined && s.acceptedAt !== undefined) s.visibleAt = Math.max(ranked, s.acceptedAt);
  }

  const accepted = submissions.filter((s) => s.acceptedAt !== undefined);
  const visible = accepted.filter((s) => s.visibleAt !== undefined);
  const lag = summary(visible.map((s) => (s.visibleAt ?? 0) - (s.acceptedAt ?? 0)));

  const ids = accepted.map((s) => s.attemptId);
  const results = await e2e.query<{ attempt: string; calculated: Date }>(
    'evaluation',
    `select "attemptId"::text as attempt, "calculatedAt" as calculated from "Result" where "attemptId" = any($1::uuid[])`,
    [ids],
  );
  const quizOutbox = await e2e.query<{ created: Date; sent: Date | null }>(
    'quiz',
    `select "createdAt" as created, "sentAt" as sent from "OutboxEvent" where topic = 'quiz.completed' and data->>'attemptId' = any($1::text[])`,
    [ids],
  );
  const quizIds = [...new Set(submissions.map((s) => s.quiz.id))];
  const boardOutbox = await e2e.query<{ created: Date; sent: Date | null }>(
    'evaluation',
    // One event per scoring, naming the quiz board among the others it raised (decision 1070).
    `select "createdAt" as created, "sentAt" as sent from "OutboxEvent" where topic = 'leaderboard.updated'
       and exists (select 1 from jsonb_array_elements(data->'boards') b where b->>'quizId' = any($1::text[]))`,
    [quizIds],
  );
  const scoredAt = new Map(results.map((r) => [r.attempt, r.calculated.getTime()]));
  const wall = (monotonic: number) => performance.timeOrigin + monotonic;
  const outboxDelay = (rows: Array<{ created: Date; sent: Date | null }>) =>
    summary(rows.flatMap((r) => (r.sent ? [r.sent.getTime() - r.created.getTime()] : [])));
  const stagesMs = {
    acceptedToScored: summary(
      visible.flatMap((s) => {
        const at = scoredAt.get(s.attemptId);
        return at === undefined || s.acceptedWall === undefined ? [] : [at - s.acceptedWall];
      }),
    ),
    scoredToStream: summary(
      visible.flatMap((s) => {
        const at = scoredAt.get(s.attemptId);
        return at === undefined || s.visibleAt === undefined ? [] : [wall(s.visibleAt) - at];
      }),
    ),
    quizOutboxWrittenToMarkedSent: outboxDelay(quizOutbox),
    evaluationOutboxWrittenToMarkedSent: outboxDelay(boardOutbox),
  };
  const errors = new Map<string, number>();
  for (const s of submissions) {
    if (!s.error) continue;
    const kind = /answered (\d+)/.exec(s.error)?.[1] ?? s.error.slice(0, 80);
    errors.set(kind, (errors.get(kind) ?? 0) + 1);
  }
  return {
    submissions: submissions.length,
    targetRatePerSecond: rate,
    achievedRatePerSecond: Math.round((accepted.length / ((lastAccepted - firstSent) / 1000)) * 10) / 10,
    accepted: accepted.length,
    errorsByStatus: Object.fromEntries(errors),
    neverVisible: accepted.length - visible.length,
    lagMs: lag,
    aimP99Ms: AIM_P99_MS,
    aimMet: lag.p99 <= AIM_P99_MS,
    submitLatencyMs: summary(accepted.map((s) => (s.acceptedAt ?? 0) - (s.sentAt ?? 0))),
    sendDelayMs: summary(accepted.map((s) => (s.sentAt ?? 0) - s.scheduledAt)),
    stagesMs,
    cpuPerAcceptedSubmission: cpuPerSubmission(cpuBefore, cpuAfter, accepted.length, cpus().length),
    loadAverage1m: { before: loadBefore, after: Number(loadavg()[0]?.toFixed(2)) },
  };
}

type PhaseResult = Awaited<ReturnType<typeof measure>>;

/**
 * Rates tried one after another (after the light phase, before the target one), each for
 * SEARCH_SECONDS, until one sees an error (a 503): the highest rate before it is what the
 * platform sustains here, with its lag. BENCH_SEARCH_RATES overrides.
 */
const SEARCH_RATES = (process.env.BENCH_SEARCH_RATES ?? '25,30,35,40,50,60,70,80')
  .split(',')
  .map(Number)
  .filter((r) => r > 0);
const SEARCH_SECONDS = Number(process.env.BENCH_SEARCH_SECONDS ?? 8);

const ratio = (after: number, before: number | undefined) =>
  before === undefined || !before ? 'n/a' : `${(after / before).toFixed(2)}×`;

/** The light phase's CPU per process, before (the committed figures) and after (this run). */
function printComparison(previous: ReturnType<typeof previousResult>, light: PhaseResult | undefined) {
  const before = previous?.phases.light;
  if (!before || !light) return undefined;
  const b = before.cpuPerAcceptedSubmission;
  const a = light.cpuPerAcceptedSubmission;
  console.log(`\n  CPU per accepted submission, light phase: before (committed, ${previous.date}) → after (this run)`);
  const names = [...new Set([...Object.keys(a.perProcessMs), ...Object.keys(b.perProcessMs)])];
  const rows = names.map((name) => ({
    name,
    before: b.perProcessMs[name],
    after: a.perProcessMs[name],
  }));
  for (const row of rows)
    console.log(
      `    ${row.name.padEnd(22)} ${String(row.before ?? '-').padStart(6)} → ${String(row.after ?? '-').padStart(6)} ms  ${ratio(row.after ?? 0, row.before)}`,
    );
  const apps = (perProcess: Record<string, number>) =>
    Math.round(
      Object.entries(perProcess)
        .filter(([name]) => name.endsWith(' app'))
        .reduce((sum, [, ms]) => sum + ms, 0) * 10,
    ) / 10;
  const summary = {
    previousDate: previous.date,
    platformTotalMs: { before: b.platformTotalMs, after: a.platformTotalMs },
    appsMs: { before: apps(b.perProcessMs), after: apps(a.perProcessMs) },
    lagP50Ms: { before: before.lagMs.p50, after: light.lagMs.p50 },
    lagP99Ms: { before: before.lagMs.p99, after: light.lagMs.p99 },
    perProcessMs: Object.fromEntries(rows.map((r) => [r.name, { before: r.before ?? null, after: r.after ?? null }])),
  };
  console.log(
    `    in all                 ${b.platformTotalMs} → ${a.platformTotalMs} ms  ${ratio(a.platformTotalMs, b.platformTotalMs)}; the five apps ${summary.appsMs.before} → ${summary.appsMs.after} ms`,
  );
  console.log(
    `    202 → visible at ${light.targetRatePerSecond}/s  p50 ${before.lagMs.p50} → ${light.lagMs.p50} ms, p99 ${before.lagMs.p99} → ${light.lagMs.p99} ms`,
  );
  return summary;
}

async function main() {
  console.log(
    `starting the platform on local backends (${PHASES.map((p) => `${p.submissions} at ${p.rate}/s`).join(', then ')})…`,
  );
  if (CPU_PROFILE_DIR) {
    process.env.QUIZMESH_CPU_PROFILE_DIR = resolve(CPU_PROFILE_DIR);
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${join(__dirname, 'cpu-profile.cjs')}`;
  }
  const previous = previousResult();
  const e2e = await startE2EPlatform({ backends: 'local' });
  try {
    const cast = await createCast(e2e.gateway, PLAYERS, 'bench');
    // Each phase's attempts are started just before it: an attempt started minutes earlier would
    // be past its deadline (submitted late: scored 0, never ranked).
    const light = PHASES[0];

    const stream = await SseClient.connect(`${e2e.platform.gatewayUrl}/api/v1/stream`, cast.admin.token);
    // The first moment each (quiz, player) was ranked in a quiz board's leaderboard event.
    const firstRanked = new Map<string, number>();
    stream.onEvent((event) => {
      if (event.event !== 'leaderboard') return;
      const data = event.data as { board?: string; quizId?: string; top?: Array<{ userId: string }> };
      if (data.board !== 'quiz' || !data.quizId) return;
      for (const entry of data.top ?? []) {
        const key = keyOf(data.quizId, entry.userId);
        if (!firstRanked.has(key)) firstRanked.set(key, event.receivedAt);
      }
    });
    const phases: Record<string, PhaseResult> = {};
    if (light && WARMUP_SUBMISSIONS > 0) {
      const warmupAttempts = await prepare(e2e, cast.author, cast.players, WARMUP_SUBMISSIONS, 'warmup');
      console.log(`${warmupAttempts.length} attempts started; warming up at ${light.rate}/s…`);
      phases.warmup = await measure(e2e, warmupAttempts, light.rate, firstRanked);
    }
    if (light) {
      const lightAttempts = await prepare(e2e, cast.author, cast.players, light.submissions, light.name);
      console.log(`${lightAttempts.length} attempts started; measuring…`);
      phases[light.name] = await measure(e2e, lightAttempts, light.rate, firstRanked, !!CPU_PROFILE_DIR);
    }
    // The highest rate with no 503: each step's attempts are started just before it (not measured).
    const search: Array<{
      rate: number;
      accepted: number;
      errors: Record<string, number>;
      lagMs: PhaseResult['lagMs'];
      cpuMs: number;
    }> = [];
    for (const rate of SEARCH_RATES) {
      let steps: Submission[];
      try {
        steps = await prepare(e2e, cast.author, cast.players, rate * SEARCH_SECONDS, `search ${rate}`);
      } catch (err) {
        // The platform is still shedding the previous step's load: that step was the limit.
        console.log(`  search ${rate}/s: could not start its attempts (${String(err).slice(0, 120)}); stopping`);
        break;
      }
      const r = await measure(e2e, steps, rate, firstRanked);
      search.push({
        rate,
        accepted: r.accepted,
        errors: r.errorsByStatus,
        lagMs: r.lagMs,
        cpuMs: r.cpuPerAcceptedSubmission.platformTotalMs,
      });
      console.log(
        `  search ${rate}/s: accepted ${r.accepted}/${r.submissions}, errors ${JSON.stringify(r.errorsByStatus)}, 202 → visible p50 ${r.lagMs.p50} p99 ${r.lagMs.p99} ms`,
      );
      if (r.accepted < r.submissions) break;
    }
    const sustained = search.filter((step) => Object.keys(step.errors).length === 0).at(-1);
    // The target rate last: far above capacity, it leaves breakers open for a while.
    for (const [i, phase] of PHASES.entries()) {
      if (i === 0 || phase.submissions === 0) continue;
      const attempts = await prepare(e2e, cast.author, cast.players, phase.submissions, phase.name);
      phases[phase.name] = await measure(e2e, attempts, phase.rate, firstRanked);
    }
    stream.close();
    // The relays publish one event after another through their sidecar: how fast can one go?
    const publishMs: number[] = [];
    for (let i = 0; i < SERIAL_PUBLISHES; i += 1) {
      const started = performance.now();
      await e2e.publishAs('evaluation', 'bench.serial-publish', {
        specversion: '1.0',
        id: randomUUID(),
        source: 'evaluation',
        type: 'dev.quizmesh.bench.v1',
        datacontenttype: 'application/json',
        data: { i },
      });
      publishMs.push(performance.now() - started);
    }
    const serialPublish = {
      ...summary(publishMs),
      perSecond: Math.round((publishMs.length / publishMs.reduce((a, b) => a + b, 0)) * 1000),
    };
    // Failures under load, as the services logged them (error level and above), by message.
    const errorLogs: Record<string, Record<string, number>> = {};
    const firstErrors: string[] = [];
    for (const service of ['gateway', 'identity', 'quiz', 'evaluation', 'notification']) {
      for (const line of e2e.logLines(service).filter((l) => l.level === 'error' || l.level === 'fatal')) {
        const byMessage = (errorLogs[service] ??= {});
        const message = String(line.msg);
        if (byMessage[message] === undefined) firstErrors.push(`${service}: ${JSON.stringify(line).slice(0, 600)}`);
        byMessage[message] = (byMessage[message] ?? 0) + 1;
      }
    }

    console.log('\nsubmit → leaderboard visible (SSE), real backends');
    for (const [name, r] of Object.entries(phases)) {
      console.log(`\n  phase ${name}: ${r.submissions} submissions at ${r.targetRatePerSecond}/s`);
      console.log(
        `    achieved ${r.achievedRatePerSecond}/s; accepted ${r.accepted}; errors ${JSON.stringify(r.errorsByStatus)}`,
      );
      console.log(`    send delay (open loop)  p50 ${r.sendDelayMs.p50} ms  p99 ${r.sendDelayMs.p99} ms`);
      console.log(`    submit → 202            p50 ${r.submitLatencyMs.p50} ms  p99 ${r.submitLatencyMs.p99} ms`);
      console.log(
        `    202 → visible (SSE)     p50 ${r.lagMs.p50} ms  p90 ${r.lagMs.p90} ms  p99 ${r.lagMs.p99} ms  max ${r.lagMs.max} ms` +
          `  (${r.neverVisible} never within ${DRAIN_MS / 1000} s)`,
      );
      console.log(`    aim p99 ≤ ${AIM_P99_MS} ms: ${r.aimMet ? 'met' : 'missed'}`);
      console.log('    where the time goes (p50 / p99 ms):');
      for (const [stage, s] of Object.entries(r.stagesMs)) console.log(`      ${stage.padEnd(36)} ${s.p50} / ${s.p99}`);
      const cpu = r.cpuPerAcceptedSubmission;
      console.log(
        `    CPU per accepted submission: ${cpu.platformTotalMs} ms in all → at most ~${cpu.ceilingPerSecondOnTheseCores}/s on these ${cpus().length} cores`,
      );
      console.log(
        `      ${Object.entries(cpu.perProcessMs)
          .map(([name, ms]) => `${name} ${ms}`)
          .join(', ')}`,
      );
      console.log(`    load average (1 min) before/after: ${r.loadAverage1m.before} / ${r.loadAverage1m.after}`);
    }
    console.log(
      `\n  highest rate with no error (steps of ${SEARCH_SECONDS} s at ${SEARCH_RATES.join(', ')}/s): ${
        sustained
          ? `${sustained.rate}/s, 202 → visible p50 ${sustained.lagMs.p50} ms p99 ${sustained.lagMs.p99} ms`
          : 'none of the steps'
      }`,
    );
    const comparison = printComparison(previous, phases.light);
    console.log(
      `\n  one publish after another through a sidecar to RabbitMQ (as a relay does): p50 ${serialPublish.p50} ms  p99 ${serialPublish.p99} ms  → ${serialPublish.perSecond}/s`,
    );
    console.log(`\n  error-level log lines by service and message: ${JSON.stringify(errorLogs)}`);
    for (const line of firstErrors) console.log(`    first: ${line}`);
    writeResult('lag', {
      backends: 'local (PostgreSQL, Redis, RabbitMQ)',
      measure: '202 of POST /api/v1/attempts/:id/submit → SSE leaderboard event of the quiz board ranking the player',
      phases,
      rateSearch: { stepSeconds: SEARCH_SECONDS, steps: search, highestRateWithoutErrors: sustained ?? null },
      comparedWithPrevious: comparison ?? null,
      serialPublishThroughSidecarMs: serialPublish,
      errorLogs,
    });
  } finally {
    await e2e.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
