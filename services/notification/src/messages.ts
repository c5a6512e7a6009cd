/**
 * The text of each message: one title (the mail subject and the inbox line) and a plain-text
 * body. User-provided text (the display name) only ever goes into the body, never a header.
 */
import type { AttemptFailed, ScoreCalculated, UserRegistered } from '@quizmesh/contracts/events';
import type { NotificationKind } from '@quizmesh/contracts/notification-api';

export interface Message {
  kind: NotificationKind;
  title: string;
  body: string;
  quizId: string | null;
  attemptId: string | null;
}

const greeting = (displayName: string | undefined) => (displayName ? `Hi ${displayName},` : 'Hi,');

/** Points can be fractional (partial credit): at most two decimals, no trailing zeros. */
const points = (value: number) => String(Math.round(value * 100) / 100);

export function welcomeMessage(event: UserRegistered): Message {
  return {
    kind: 'welcome',
    title: 'Welcome to Quizmesh',
    body: [
      greeting(event.displayName),
      '',
      'your Quizmesh account is ready. Pick a quiz, play it, and your results will show up here.',
      '',
      'Have fun!',
    ].join('\n'),
    quizId: null,
    attemptId: null,
  };
}

export function resultMessage(event: ScoreCalculated, displayName: string | undefined): Message {
  const percent = Math.round((event.score / event.maxScore) * 100);
  const lines = [
    greeting(displayName),
    '',
    `your attempt has been scored: ${points(event.score)} of ${points(event.maxScore)} points (${percent}%),`,
    `${event.correctCount} of ${event.questionCount} questions answered correctly.`,
  ];
  if (event.late) lines.push('It was submitted after the deadline, so it scores 0 and stays off the leaderboards.');
  lines.push('', `Quiz: ${event.quizId}`, `Attempt: ${event.attemptId}`);
  return {
    kind: 'result',
    title: `Your quiz result: ${points(event.score)}/${points(event.maxScore)} (${percent}%)`,
    body: lines.join('\n'),
    quizId: event.quizId,
    attemptId: event.attemptId,
  };
}

/** `reason` is written for the player by quiz (docs/events.md), so the apology quotes it. */
export function attemptFailedMessage(event: AttemptFailed, displayName: string | undefined): Message {
  return {
    kind: 'attempt-failed',
    title: 'We could not score your quiz attempt',
    body: [
      greeting(displayName),
      '',
      `sorry: something went wrong on our side and your attempt at "${event.quizTitle}" could not be scored.`,
      `What happened: ${event.reason}`,
      'Please play the quiz again; we are looking into it.',
      '',
      `Quiz: ${event.quizId}`,
      `Attempt: ${event.attemptId}`,
    ].join('\n'),
    quizId: event.quizId,
    attemptId: event.attemptId,
  };
}
