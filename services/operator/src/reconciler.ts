/**
 * Level-based, idempotent reconcile of one Quiz resource: read the resource as it is now, make the
 * quiz service match it, write what happened into status. Running it twice in a row changes nothing
 * the second time; it never relies on having seen the previous event.
 */
import type { Logger } from 'pino';
import { AppError, DaprCallError } from '@quizmesh/platform';
import {
  createQuizRequestSchema,
  quizHeaderOf,
  type AuthorQuiz,
  type CreateQuizRequest,
} from '@quizmesh/contracts/quiz-api';
import {
  QUIZ_RESOURCE,
  quizResourceSpecSchema,
  type QuizCondition,
  type QuizResource,
  type QuizResourceStatus,
} from '@quizmesh/contracts/quiz-resource';
import type { QuizClient } from './quiz-client';
import { keyOf, type EventType, type QuizSource } from './source';

export interface ReconcileResult {
  /** reconcile again after this long (drift and statistics), unless a change comes first */
  requeueAfterMs?: number;
}

export interface ReconcilerOptions {
  source: QuizSource;
  quiz: QuizClient;
  logger: Logger;
  /** how often a healthy resource is compared with its quiz again (drift after a direct change) */
  resyncMs: number;
  /** how often attempts and top score are refreshed from evaluation */
  statsRefreshMs: number;
  now?: () => Date;
}

type ConditionType = QuizCondition['type'];
type ConditionInput = Pick<QuizCondition, 'status' | 'reason' | 'message'>;

/** The spec without ids the author did not write: the quiz service assigns those. */
function comparable(content: CreateQuizRequest, keepIds: boolean) {
  return {
    ...quizHeaderOf(content),
    questions: content.questions.map((q) => ({
      ...(keepIds && q.id ? { id: q.id } : {}),
      type: q.type,
      text: q.text,
      points: q.points,
      explanation: q.explanation ? q.explanation : null,
      options: q.options.map((o) => ({ ...(keepIds && o.id ? { id: o.id } : {}), text: o.text, correct: o.correct })),
    })),
  };
}

function sameContent(quiz: AuthorQuiz, desired: CreateQuizRequest): boolean {
  const keepIds = desired.questions.some((q) => q.id !== undefined || q.options.some((o) => o.id !== undefined));
  const current: CreateQuizRequest = {
    title: quiz.title,
    description: quiz.description,
    tags: quiz.tags,
    difficulty: quiz.difficulty,
    timeLimitSeconds: quiz.timeLimitSeconds,
    questions: quiz.questions.map((q) => ({ ...q, explanation: q.explanation ?? undefined })),
  };
  return JSON.stringify(comparable(current, keepIds)) === JSON.stringify(comparable(desired, keepIds));
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** The quiz service (or its sidecar) could not answer: retry with back-off. */
function unavailable(err: unknown): boolean {
  return err instanceof DaprCallError && (err.daprStatus === undefined || err.daprStatus >= 500 || err.status === 503);
}

/** The problem detail the quiz service answered with, for conditions and events. */
function describe(err: unknown): string {
  if (err instanceof DaprCallError && err.daprBody) {
    try {
      const problem = JSON.parse(err.daprBody) as {
        detail?: unknown;
        errors?: Array<{ field?: string; message?: string }>;
      };
      const fields = (problem.errors ?? []).map((e) => `${e.field ?? '?'}: ${e.message ?? ''}`).join('; ');
      return [problem.detail, fields].filter((s) => typeof s === 'string' && s !== '').join(' - ');
    } catch {
      return err.daprBody;
    }
  }
  return err instanceof Error ? err.message : String(err);
}

export class QuizReconciler {
  private readonly now: () => Date;

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const { source } = this.options;
    const cached = source.get(key);
    if (!cached) return {};
    if (cached.metadata.deletionTimestamp) {
      await this.finalize(cached);
      return {};
    }
    let resource = cached;
    const finalizers = resource.metadata.finalizers ?? [];
    if (!finalizers.includes(QUIZ_RESOURCE.finalizer)) {
      // Before the quiz exists, so a deletion can never skip archiving it.
      resource = await source.setFinalizers(resource, [...finalizers, QUIZ_RESOURCE.finalizer]);
    }
    const generation = resource.metadata.generation;
    const spec = quizResourceSpecSchema.safeParse(resource.spec);
    if (!spec.success) {
      const message = spec.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ');
      await this.setStatus(
        resource,
        {},
        {
          Synced: { status: 'False', reason: 'InvalidSpec', message },
          Ready: { status: 'False', reason: 'InvalidSpec', message: 'fix the spec' },
        },
      );
      return {}; // nothing to retry until the spec changes
    }
    const { publish, ...rest } = spec.data;
    const content = createQuizRequestSchema.parse(rest);
    const ref = keyOf(resource);
    const previous = resource.status ?? {};
    try {
      let quiz = await this.options.quiz.createManaged(ref, content);
      if (previous.quizId !== quiz.id) await this.event(resource, 'Normal', 'QuizCreated', `quiz ${quiz.id}`);
      if (!sameContent(quiz, content)) {
        const wasPublished = quiz.versionStatus === 'published';
        quiz = await this.options.quiz.replace(ref, quiz.id, content);
        await this.event(
          resource,
          'Normal',
          'QuizUpdated',
          wasPublished
            ? `draft version ${quiz.version} from the changed spec`
            : `draft version ${quiz.version} updated`,
        );
      }
      if (publish && quiz.versionStatus === 'draft') {
        quiz = await this.options.quiz.publish(ref, quiz.id);
        await this.event(resource, 'Normal', 'Published', `version ${quiz.version} published`);
      }
      const publishedVersion = quiz.versionStatus === 'published' ? quiz.version : previous.publishedVersion;
      const stats = await this.stats(quiz.id, previous);
      await this.setStatus(
        resource,
        {
          quizId: quiz.id,
          observedGeneration: generation,
          ...(publishedVersion ? { publishedVersion } : {}),
          ...stats,
        },
        {
          Synced: {
            status: 'True',
            reason: 'Reconciled',
            message: `quiz ${quiz.id} matches generation ${generation ?? '?'}`,
          },
          Published:
            quiz.versionStatus === 'published'
              ? { status: 'True', reason: 'Published', message: `version ${quiz.version} is playable` }
              : {
                  status: 'False',
                  reason: publishedVersion ? 'DraftPending' : 'Draft',
                  message: publishedVersion
                    ? `version ${quiz.version} is a draft (spec.publish is false); version ${publishedVersion} stays playable`
                    : 'spec.publish is false',
                },
          Ready: { status: 'True', reason: 'Reconciled', message: 'the quiz matches the resource' },
        },
      );
      return { requeueAfterMs: Math.min(this.options.resyncMs, this.options.statsRefreshMs) };
    } catch (err) {
      if (unavailable(err)) {
        const message = `quiz service unavailable, retrying with back-off: ${describe(err)}`;
        await this.setStatus(
          resource,
          {},
          {
            Synced: { status: 'False', reason: 'QuizServiceUnavailable', message },
            Ready: { status: 'False', reason: 'QuizServiceUnavailable', message },
          },
        );
        throw err;
      }
      if (err instanceof DaprCallError || err instanceof AppError) {
        const message = `the quiz service refused the spec: ${describe(err)}`;
        await this.setStatus(
          resource,
          {},
          {
            Synced: { status: 'False', reason: 'Rejected', message },
            Ready: { status: 'False', reason: 'Rejected', message },
          },
        );
        return { requeueAfterMs: this.options.resyncMs };
      }
      throw err;
    }
  }

  /** The resource is being deleted: archive its quiz, then let it go. */
  private async finalize(resource: QuizResource): Promise<void> {
    const finalizers = resource.metadata.finalizers ?? [];
    if (!finalizers.includes(QUIZ_RESOURCE.finalizer)) return;
    const quizId = resource.status?.quizId;
    if (quizId) {
      try {
        await this.options.quiz.archive(keyOf(resource), quizId);
      } catch (err) {
        await this.event(
          resource,
          'Warning',
          'ArchiveFailed',
          `archiving quiz ${quizId} failed, retrying: ${describe(err)}`,
        );
        throw err;
      }
      await this.event(resource, 'Normal', 'Archived', `quiz ${quizId} archived`);
    }
    await this.options.source.setFinalizers(
      resource,
      finalizers.filter((f) => f !== QUIZ_RESOURCE.finalizer),
    );
  }

  private async stats(quizId: string, previous: QuizResourceStatus): Promise<Partial<QuizResourceStatus>> {
    const kept = {
      ...(previous.players !== undefined ? { players: previous.players } : {}),
      ...(previous.topScore !== undefined ? { topScore: previous.topScore } : {}),
      ...(previous.statsUpdatedAt !== undefined ? { statsUpdatedAt: previous.statsUpdatedAt } : {}),
    };
    const last = previous.statsUpdatedAt ? Date.parse(previous.statsUpdatedAt) : 0;
    if (previous.quizId === quizId && this.now().getTime() - last < this.options.statsRefreshMs) return kept;
    try {
      const stats = await this.options.quiz.stats(quizId);
      return {
        players: stats.players,
        ...(stats.topScore !== undefined ? { topScore: stats.topScore } : {}),
        statsUpdatedAt: this.now().toISOString(),
      };
    } catch (err) {
      // Statistics are informative: evaluation being down must not fail the reconcile.
      this.options.logger.debug({ err, quizId }, 'statistics not refreshed');
      return kept;
    }
  }

  /** Writes status when it changed; conditions keep their transition time unless their status flips. */
  private async setStatus(
    resource: QuizResource,
    fields: Partial<QuizResourceStatus>,
    conditions: Partial<Record<ConditionType, ConditionInput>>,
  ): Promise<void> {
    const previous = resource.status ?? {};
    const now = this.now().toISOString();
    const merged = new Map((previous.conditions ?? []).map((c) => [c.type, c]));
    for (const [type, input] of Object.entries(conditions) as Array<[ConditionType, ConditionInput]>) {
      const old = merged.get(type);
      const transitioned = !old || old.status !== input.status;
      // A failure is announced once per cause (the API server also folds repeats of an event).
      if (type === 'Synced' && input.status === 'False' && (transitioned || old?.reason !== input.reason)) {
        await this.event(resource, 'Warning', input.reason, input.message);
      }
      merged.set(type, {
        type,
        ...input,
        lastTransitionTime: transitioned || !old ? now : old.lastTransitionTime,
        ...(resource.metadata.generation !== undefined ? { observedGeneration: resource.metadata.generation } : {}),
      });
    }
    const status: QuizResourceStatus = {
      ...previous,
      ...fields,
      conditions: ['Ready', 'Synced', 'Published'].flatMap((t) => merged.get(t as ConditionType) ?? []),
    };
    // Canonical comparison: the API server hands objects back with their keys sorted.
    if (canonical(status) === canonical(previous)) return;
    await this.options.source.updateStatus(resource, status);
  }

  private async event(resource: QuizResource, type: EventType, reason: string, message: string): Promise<void> {
    this.options.logger[type === 'Warning' ? 'warn' : 'info']({ resource: keyOf(resource), reason }, message);
    try {
      await this.options.source.recordEvent(resource, type, reason, message);
    } catch (err) {
      // An event is a notice, never a reason to fail the reconcile.
      this.options.logger.debug({ err }, 'event not recorded');
    }
  }
}
