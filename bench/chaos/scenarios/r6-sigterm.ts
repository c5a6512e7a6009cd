/**
 * R6 (issue 12, item 5): SIGTERM to each app in turn (identity, quiz, evaluation, notification,
 * then the gateway) under steady load through the gateway. Every request the app was serving
 * when the signal came must succeed (the app drains), and the supervisor must bring the app
 * back. "Serving" is read from the app's own request log (each request carries the load's
 * x-request-id): a request that reached the gateway just before the signal but the app only
 * after it had stopped accepting was not in flight there — those, and every request while the
 * app is away, are counted in the figures (one instance per app here: nothing else can take them).
 */
import type { E2EPlatform } from '@quizmesh/e2e';
import { GatewayLoad, inFlightAt, summarize, type RequestRecord } from '../gateway-load';
import { settle, startChaosPlatform, waitForRestart } from '../platform';
import { Expectations, type ChaosScenario } from '../scenario';

const APPS = ['identity', 'quiz', 'evaluation', 'notification', 'gateway'] as const;

/** Request ids the app's log shows in progress at `moment` (started before it, completed after it). */
function servingAt(e2e: E2EPlatform, app: string, moment: number): Array<{ id: string; status: number }> {
  return e2e.logLines(app).flatMap((line) => {
    // The platform's request line (packages/platform http.ts): reqId, status, responseTime (ms), time.
    const { reqId, status, responseTime, time } = line;
    if (typeof reqId !== 'string' || typeof responseTime !== 'number' || typeof time !== 'string') return [];
    const ended = Date.parse(time);
    const began = ended - responseTime;
    return began <= moment && ended >= moment ? [{ id: reqId, status: Number(status ?? 0) }] : [];
  });
}

const scenario: ChaosScenario = {
  id: 'R6',
  title: 'SIGTERM to each app under load: in-flight requests drain, the supervisor restarts it',
  async run({ short, out }) {
    const gapMs = short ? 2_000 : 8_000;
    const workers = short ? 4 : 8;
    const expect = new Expectations();
    out('R6: starting the platform on local backends');
    const { e2e, players, quiz } = await startChaosPlatform({ players: workers, prefix: short ? 'r6s' : 'r6' });
    try {
      const load = new GatewayLoad(e2e.gateway, quiz, players, 1_000);
      const loadStart = Date.now();
      load.start();
      const signals: Array<{ app: string; at: number; pid: number; backAfterMs: number | undefined }> = [];
      for (const app of APPS) {
        await new Promise((r) => setTimeout(r, gapMs));
        const pid = e2e.platform.instances(app)[0]?.appPid ?? -1;
        const at = Date.now();
        process.kill(pid, 'SIGTERM');
        out(`R6: SIGTERM ${app} (pid ${pid}) at +${at - loadStart} ms`);
        const backAfterMs = await waitForRestart(e2e, app, 0, pid, at).catch((err: Error) => {
          expect.check(false, err.message);
          return undefined;
        });
        signals.push({ app, at, pid, backAfterMs });
      }
      await new Promise((r) => setTimeout(r, gapMs));
      await load.stop();

      const byId = new Map<string, RequestRecord>(load.records.map((r) => [r.requestId, r]));
      const perApp = signals.map(({ app, at, backAfterMs }) => {
        const serving = servingAt(e2e, app, at).filter((s) => byId.has(s.id));
        const failedServing = serving.filter((s) => !byId.get(s.id)?.ok);
        const clientInFlight = inFlightAt(load.records, at);
        const whileAway = load.records.filter((r) => r.startedAt > at && r.startedAt <= at + (backAfterMs ?? 0));
        expect.check(
          failedServing.length === 0,
          `${app}: ${failedServing.length} of the ${serving.length} requests it was serving at SIGTERM failed: ${JSON.stringify(
            failedServing.slice(0, 5).map((s) => byId.get(s.id)),
          )}`,
        );
        return {
          app,
          atMs: at - loadStart,
          backAfterMs,
          inFlightAtApp: serving.length,
          failedInFlightAtApp: failedServing.length,
          inFlightAtClient: clientInFlight.length,
          failedInFlightAtClient: clientInFlight.filter((r) => !r.ok).length,
          requestsWhileAway: whileAway.length,
          failedWhileAway: whileAway.filter((r) => !r.ok).length,
        };
      });
      const summary = summarize(load.records);
      const settled = await settle(e2e, load.accepted);
      expect.check(summary.requests > 0, 'the load sent no request');
      expect.equal(
        { failed: settled.failed, stillSubmitted: settled.stillSubmitted },
        { failed: 0, stillSubmitted: 0 },
        `accepted submissions (of ${settled.accepted}) not SCORED`,
      );
      const inFlight = perApp.reduce((n, a) => n + a.inFlightAtApp, 0);
      out(
        `R6: ${inFlight} requests in flight at the apps at SIGTERM, ${perApp.reduce((n, a) => n + a.failedInFlightAtApp, 0)} failed; ` +
          `back after ${perApp.map((a) => `${a.app} ${a.backAfterMs} ms`).join(', ')}; ` +
          `${summary.succeeded}/${summary.requests} requests succeeded overall; ${settled.scored}/${settled.accepted} submissions SCORED`,
      );
      return {
        passed: expect.failures.length === 0,
        figures: { short, players: workers, gapMs, perApp, ...summary, submissions: settled },
        failures: expect.failures,
      };
    } finally {
      await e2e.stop();
    }
  },
};

export default scenario;
