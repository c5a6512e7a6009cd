/**
 * What the fuzzer runs against and what it checks afterwards: the whole platform started by the
 * launcher as `npm start` does (or an already running gateway), accounts of each role, and the
 * invariants a run must leave intact: every process still the one that started (none crashed
 * and was restarted), every service ready (no breaker open), and the limits still limiting.
 */
import { randomUUID } from 'node:crypto';
import { ADMIN_EMAIL, startE2EPlatform, type E2EPlatform, GatewayClient } from '@quizmesh/e2e';
import type { FuzzTokens } from './fuzz';

export interface FuzzTarget {
  baseUrl: string;
  tokens: FuzzTokens;
  /** logs the accounts in again (fuzzed logouts and password changes revoke their tokens) */
  refreshTokens(): Promise<FuzzTokens>;
  /** pids of the platform's processes (empty for an external gateway) */
  pids: number[];
  stop(): Promise<void>;
}

export async function startFuzzTarget(url?: string): Promise<FuzzTarget> {
  let platform: E2EPlatform | undefined;
  let baseUrl = url;
  if (!baseUrl) {
    platform = await startE2EPlatform({ backends: 'embedded' });
    baseUrl = platform.platform.gatewayUrl;
  }
  const gateway = new GatewayClient(baseUrl);
  const suffix = randomUUID().slice(0, 8);
  const player = await gateway.register(`fuzz.player.${suffix}@example.com`, 'Fuzz Player');
  let author = player;
  let admin = player;
  if (platform) {
    // The e2e platform's identity makes this address the bootstrap admin.
    admin = await gateway.register(ADMIN_EMAIL, 'Fuzz Admin');
    author = await gateway.makeAuthor(
      admin,
      await gateway.register(`fuzz.author.${suffix}@example.com`, 'Fuzz Author'),
    );
  }
  const relogin = async (account: typeof player) => {
    try {
      return (await gateway.login(account)).token;
    } catch {
      // A fuzzed password change succeeded (or the login limit is hit): keep the old token.
      return account.token;
    }
  };
  return {
    baseUrl,
    tokens: { player: player.token, author: author.token, admin: admin.token },
    refreshTokens: async () => ({
      player: await relogin(player),
      author: await relogin(author),
      admin: await relogin(admin),
    }),
    pids: platform ? [...platform.platform.pids] : [],
    stop: async () => {
      await platform?.stop();
    },
  };
}

export interface Invariants {
  /** pids that are gone: a process crashed (and was restarted with a new pid) */
  processesGone: number[];
  /** services /api/v1/status does not report ready (an open breaker answers 503 there) */
  servicesNotReady: string[];
  /** the limits that still limited after the run */
  limits: { loginLimited: boolean; streamsPerUserLimited: boolean };
}

export async function checkInvariants(target: FuzzTarget): Promise<Invariants> {
  const processesGone = target.pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  });
  const status = (await (await fetch(`${target.baseUrl}/api/v1/status`)).json()) as {
    services?: Array<{ appId: string; status: string }>;
  };
  const servicesNotReady = (status.services ?? []).filter((s) => s.status !== 'ready').map((s) => s.appId);

  // Failed logins for one address and email: the sixth is refused (LOGIN_RATE_LIMIT 5).
  const email = `fuzz.limit.${randomUUID().slice(0, 8)}@example.com`;
  let loginLimited = false;
  for (let i = 0; i < 8 && !loginLimited; i += 1) {
    const res = await fetch(`${target.baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'not the password at all' }),
    });
    await res.text();
    loginLimited = res.status === 429;
  }

  // Streams of one account: the sixth is refused (STREAM_MAX_CONNECTIONS_PER_USER 5). A fresh
  // account: the fuzzed requests may have logged the others out.
  const fresh = await new GatewayClient(target.baseUrl).register(
    `fuzz.streams.${randomUUID().slice(0, 8)}@example.com`,
    'Fuzz Streams',
  );
  const controllers: AbortController[] = [];
  let streamsPerUserLimited = false;
  try {
    for (let i = 0; i < 7 && !streamsPerUserLimited; i += 1) {
      const controller = new AbortController();
      controllers.push(controller);
      const res = await fetch(`${target.baseUrl}/api/v1/stream`, {
        headers: { authorization: `Bearer ${fresh.token}` },
        signal: controller.signal,
      });
      if (res.status === 429) {
        streamsPerUserLimited = true;
        await res.text();
      }
    }
  } finally {
    for (const controller of controllers) controller.abort();
  }
  return { processesGone, servicesNotReady, limits: { loginLimited, streamsPerUserLimited } };
}
