/**
 * Reads a version's quiz.published from quiz through Dapr service invocation, for a key no event
 * brought (decision 1080). Every failure (quiz down or slow, no such published version, an answer
 * that is not that version's quiz.published) is logged and read as "none": scoring then answers
 * RETRY exactly as without the read.
 */
import type { Logger } from 'pino';
import { DaprCallError, withTimeout, type Dapr } from '@quizmesh/platform';
import { quizPublished } from '@quizmesh/contracts/events';
import { quizPublishedRead } from '@quizmesh/contracts/quiz-api';
import type { MissingKeyReader } from './answer-keys';

export function quizPublishedReader(
  dapr: Pick<Dapr, 'invoke'>,
  options: { quizAppId: string; timeoutMs: number; logger: Logger },
): MissingKeyReader {
  const { quizAppId, timeoutMs, logger } = options;
  return async (quizId, version) => {
    let answer: unknown;
    try {
      answer = await withTimeout(
        dapr.invoke<unknown>(quizAppId, quizPublishedRead.method(quizId, version)),
        timeoutMs,
        `quiz did not answer within ${timeoutMs} ms`,
      );
    } catch (err) {
      if (err instanceof DaprCallError && err.answeredByCallee(404)) {
        logger.info({ quizId, version }, 'quiz has no published version to read the answer key from');
      } else {
        logger.warn({ err, quizId, version }, 'reading the answer key from quiz failed');
      }
      return undefined;
    }
    const parsed = quizPublished.schema.safeParse(answer);
    if (!parsed.success || parsed.data.quizId.toLowerCase() !== quizId || parsed.data.version !== version) {
      logger.warn(
        { quizId, version, issues: parsed.error?.issues },
        "quiz's answer is not this version's quiz.published: not used",
      );
      return undefined;
    }
    return parsed.data;
  };
}
