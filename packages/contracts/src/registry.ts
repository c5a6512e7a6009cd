/**
 * The system registry: how the apps fit together, each fact written once. Per app: the public
 * operations it serves (its `*-api.ts` list, with access, schemas and seed aliases) and the
 * topics it consumes, with what happens to their dead letters. What an app publishes is the
 * `publisher` of each event contract (events.ts), so it is not repeated here.
 *
 * Everything else is derived from this file (system.ts):
 *  - the gateway's route table (deny by default) and the OpenAPI document;
 *  - the handlers each service must mount (`mountOperations` in @quizmesh/platform: a missing or
 *    extra handler fails at start);
 *  - the dead-letter topics each service stores and the admin routes the gateway opens;
 *  - components/common/subscriptions-*.yaml (`npm run generate`), checked against the chart's
 *    `events:` and rendered Subscriptions by packages/deploy-checks.
 *
 * Adding an endpoint: add the operation to the app's `*-api.ts` list, then its handler under the
 * same operation id. Adding a consumer: add `{ event }` to the app's `consumes`, run
 * `npm run generate`, add the app to the topic's consumers in charts/quizmesh/values.yaml
 * `events:`, and mount the handler. docs/conventions.md shows both.
 */
import {
  attemptFailed,
  leaderboardUpdated,
  notificationCreated,
  quizCompleted,
  quizPublished,
  quizViewChanged,
  scoreCalculated,
  tokensRevoked,
  userRegistered,
  userRenamed,
  type EventContract,
} from './events';
import { evaluationOperations, evaluationSeedAliases } from './evaluation-api';
import { identityOperations, identitySeedAliases } from './identity-api';
import { notificationOperations } from './notification-api';
import type { ApiOperation } from './operations';
import { quizOperations, quizSeedAliases } from './quiz-api';

export interface ConsumedTopic {
  event: EventContract;
  /**
   * every replica receives every message through the per-pod component `pubsub-broadcast`
   * (components/ and the chart; there also the app's `broadcastTopics`), instead of one replica
   * per message
   */
  everyReplica?: boolean;
}

/**
 * What the app does with the dead letters of the topics it consumes (each consumed topic has a
 * `<topic>.deadletter`, and the app subscribes to it):
 *  - `admin-api`: stored and listed, replayed or discarded by an admin through the platform's
 *    dead-letter API, public at `/api/v1/admin/dead-letters/{appId}` (docs/decisions/0600);
 *  - `log`: only logged (the gateway's live push is obsolete once missed).
 */
export type DeadLetterHandling = 'admin-api' | 'log';

export interface AppRegistration {
  appId: string;
  /** one line: the app's OpenAPI tag */
  description: string;
  /** the public operations, served by the app and routed to it by the gateway */
  operations: readonly ApiOperation[];
  /**
   * the seed design's paths, `'METHOD /path': 'METHOD /path of an operation'`: served with that
   * operation's handler, routed with its access and documented as deprecated copies
   */
  seedAliases: Readonly<Record<string, string>>;
  consumes: readonly ConsumedTopic[];
  /**
   * topics the app publishes whose dead letters it consumes to compensate (e.g. quiz marks an
   * attempt FAILED when its quiz.completed could not be scored): only the dead-letter topic
   */
  compensates: readonly EventContract[];
  deadLetters: DeadLetterHandling;
}

/** Checks the shape at compile time and keeps the literal app id. */
const defineApp = <const A extends string>(app: AppRegistration & { appId: A }) => app;

export const identityApp = defineApp({
  appId: 'identity',
  description: 'Accounts, sign-in, tokens and roles.',
  operations: identityOperations,
  seedAliases: identitySeedAliases,
  consumes: [{ event: scoreCalculated }],
  compensates: [],
  deadLetters: 'admin-api',
});

export const quizApp = defineApp({
  appId: 'quiz',
  description: 'Quizzes (drafts, publishing, versions) and attempts.',
  operations: quizOperations,
  seedAliases: quizSeedAliases,
  consumes: [
    { event: scoreCalculated },
    // Every replica: each keeps the player views in memory and must drop a changed one (decision 0900).
    { event: leaderboardUpdated, everyReplica: true },
    { event: quizViewChanged, everyReplica: true },
  ],
  compensates: [quizCompleted],
  deadLetters: 'admin-api',
});

export const evaluationApp = defineApp({
  appId: 'evaluation',
  description: 'Scores, results, leaderboards and player statistics.',
  operations: evaluationOperations,
  seedAliases: evaluationSeedAliases,
  consumes: [{ event: quizPublished }, { event: userRegistered }, { event: quizCompleted }, { event: userRenamed }],
  compensates: [],
  deadLetters: 'admin-api',
});

export const notificationApp = defineApp({
  appId: 'notification',
  description: 'The signed-in user’s inbox.',
  operations: notificationOperations,
  seedAliases: {},
  consumes: [{ event: userRegistered }, { event: scoreCalculated }, { event: attemptFailed }],
  compensates: [],
  deadLetters: 'admin-api',
});

/** The gateway's own endpoints (status, stream, docs) are its code, not routed: services/gateway/src/openapi. */
export const gatewayApp = defineApp({
  appId: 'gateway',
  description: 'The public entry: routing, tokens, rate limits and the live stream.',
  operations: [],
  seedAliases: {},
  consumes: [
    { event: leaderboardUpdated, everyReplica: true },
    { event: notificationCreated, everyReplica: true },
    { event: tokensRevoked, everyReplica: true },
    // Drops the player views it keeps (getQuiz's gatewayCache, decision 1000); leaderboard.updated does too.
    { event: quizViewChanged, everyReplica: true },
  ],
  compensates: [],
  deadLetters: 'log',
});

/** Every app, in the order documents list them. */
export const SYSTEM: readonly AppRegistration[] = [gatewayApp, identityApp, quizApp, evaluationApp, notificationApp];
