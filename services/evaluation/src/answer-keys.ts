/**
 * The answer keys scoring reads, kept in process once read: a version's key never changes once
 * stored (storeAnswerKey inserts it once and never updates it), so a cached key is never stale,
 * and scoring an attempt needs no query for it (decision 0890). A missing key is not cached:
 * the redelivery looks again.
 *
 * A key comes from quiz.published; when that never arrived, `readMissing` asks quiz for the same
 * data, which is stored the same way (first copy wins) and read back like any stored key
 * (decision 1080).
 */
import type { Logger } from 'pino';
import type { QuizPublished } from '@quizmesh/contracts/events';
import type { PrismaClient } from './db';
import { answerKeyOf, keyedQuestionsSchema, type KeyedQuestion } from './scoring';

export interface AnswerKey {
  title: string;
  questions: KeyedQuestion[];
}

/** quiz.published of a version from quiz, or undefined when quiz has none or could not answer */
export type MissingKeyReader = (quizId: string, version: number) => Promise<QuizPublished | undefined>;

/**
 * Stores a version's answer key from its quiz.published data, whether delivered or read from quiz;
 * true when this call stored it. A version's key never changes: a redelivery (or a replayed older
 * copy, or a read racing the event) finds it stored and keeps it.
 */
export async function storeAnswerKey(prisma: PrismaClient, event: QuizPublished): Promise<boolean> {
  const questions = answerKeyOf(event);
  const { count } = await prisma.answerKey.createMany({
    data: [
      {
        quizId: event.quizId.toLowerCase(),
        version: event.version,
        title: event.title,
        maxScore: questions.reduce((sum, q) => sum + q.points, 0),
        questions,
        publishedAt: new Date(event.publishedAt),
      },
    ],
    skipDuplicates: true,
  });
  return count === 1;
}

/** keys kept at most; the oldest read goes first (a quiz version's attempts come together) */
const DEFAULT_CAPACITY = 10_000;

export interface AnswerKeysOptions {
  /** reads a key no quiz.published brought; without it a missing key stays missing */
  readMissing?: MissingKeyReader;
  logger?: Logger;
  capacity?: number;
}

export class AnswerKeys {
  private readonly keys = new Map<string, AnswerKey>();
  /** reads from quiz under way: the attempts of one missing version wait for the same one */
  private readonly reading = new Map<string, Promise<AnswerKey | undefined>>();
  private readonly capacity: number;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: AnswerKeysOptions = {},
  ) {
    this.capacity = options.capacity ?? DEFAULT_CAPACITY;
  }

  async get(quizId: string, version: number): Promise<AnswerKey | undefined> {
    const id = `${quizId}/${version}`;
    const cached = this.keys.get(id);
    if (cached) return cached;
    const stored = await this.stored(id, quizId, version);
    if (stored || !this.options.readMissing) return stored;
    let pending = this.reading.get(id);
    if (!pending) {
      pending = this.readThrough(this.options.readMissing, id, quizId, version).finally(() => this.reading.delete(id));
      this.reading.set(id, pending);
    }
    return pending;
  }

  private async readThrough(
    readMissing: MissingKeyReader,
    id: string,
    quizId: string,
    version: number,
  ): Promise<AnswerKey | undefined> {
    const event = await readMissing(quizId, version);
    if (!event) return undefined;
    const stored = await storeAnswerKey(this.prisma, event);
    this.options.logger?.info(
      { quizId, version, stored },
      'answer key read through from quiz (quiz.published not received)',
    );
    // What is stored now is the key, whichever copy came first.
    return this.stored(id, quizId, version);
  }

  private async stored(id: string, quizId: string, version: number): Promise<AnswerKey | undefined> {
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
