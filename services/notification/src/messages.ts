/**
 * The text of each message: one title (the mail subject and the inbox line) and a plain-text
 * body. User-provided text (display names, quiz titles) only ever goes into the body, never a
 * header. The mail carries the body rendered as escaped HTML (`mailHtml`).
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
  // quizTitle is optional in score.calculated v1 (an older evaluation does not send it).
  const attempt = event.quizTitle ? `your attempt at "${event.quizTitle}"` : 'your quiz attempt';
  const lines = [
    greeting(displayName),
    '',
    `${attempt} has been scored: ${points(event.score)} of ${points(event.maxScore)} points (${percent}%),`,
    `${event.correctCount} of ${event.questionCount} questions answered correctly.`,
  ];
  if (event.late) {
    lines.push('It was not submitted before the deadline, so it scores 0 and stays off the leaderboards.');
  }
  lines.push('', 'The review of each question, with the explanations, is on your results page.');
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
    ].join('\n'),
    quizId: event.quizId,
    attemptId: event.attemptId,
  };
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

/**
 * The mail body. Dapr's `bindings.smtp` sends every body as `text/html` (components-contrib
 * v1.16: no plain-text or multipart option), so the plain text is sent as the HTML it means:
 * escaped (a display name or quiz title cannot inject markup), a paragraph per block, its line
 * breaks kept (decision 0842).
 */
export function mailHtml(message: Pick<Message, 'title' | 'body'>): string {
  const paragraphs = message.body
    .split(/\n{2,}/)
    .map((block) => `<p>${block.split('\n').map(escapeHtml).join('<br>\n')}</p>`);
  return [
    '<!doctype html>',
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>${escapeHtml(message.title)}</title></head>`,
    '<body>',
    ...paragraphs,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
