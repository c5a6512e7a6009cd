/**
 * The answer keys scoring reads, kept in process once read: a version's key never changes once
 * stored (keepAnswerKey inserts it once and never updates it), so a cached key is never stale,
 * and scoring an attempt needs no query for it (decision 0890). A missing key is not cached:
 * the redelivery looks again.
 */
import type { PrismaClient } from './db';
import { keyedQuestionsSchema, type KeyedQuestion } from './scoring';

export interface AnswerKey {
  title: string;
  questions: KeyedQuestion[];
}

/** keys kept at most; the oldest read goes first (a quiz version's attempts come together) */
const DEFAULT_CAPACITY = 10_000;

export class AnswerKeys {
  private readonly keys = new Map<string, AnswerKey>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {}

  async get(quizId: string, version: number): Promise<AnswerKey | undefined> {
    const id = `${quizId}/${version}`;
    const cached = this.keys.get(id);
    if (cached) return cached;
    const row = await this.prisma.answerKey.findUnique({
      where: { quizId_version: { quizId, version } },
      select: { title: true, questions: true },
    });
    if (!row) return undefined;
    const key = { title: row.title, questions: keyedQuestionsSchema.parse(row.questions) };
    this.keys.set(id, key);
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.keys().next();
      if (!oldest.done) this.keys.delete(oldest.value);
    }
    return key;
  }
}
