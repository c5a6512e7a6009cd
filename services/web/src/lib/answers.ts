/**
 * The player's choices during an attempt. Single choice replaces, multiple choice toggles; the
 * choices are kept per attempt in sessionStorage so a reload resumes them (the server returns the
 * same open attempt when the quiz is started again). Only option ids are kept, never answer keys,
 * which the page never has before submitting.
 */
export type QuestionKind = 'single' | 'multiple';

/** question id → chosen option ids */
export type Choices = Readonly<Record<string, readonly string[]>>;

export function choose(choices: Choices, questionId: string, kind: QuestionKind, optionId: string): Choices {
  const current = choices[questionId] ?? [];
  const next =
    kind === 'single'
      ? [optionId]
      : current.includes(optionId)
        ? current.filter((id) => id !== optionId)
        : [...current, optionId];
  return { ...choices, [questionId]: next };
}

export interface QuestionShape {
  id: string;
  options: ReadonlyArray<{ id: string }>;
}

/** The submit body: one entry per question of the quiz (unanswered ones empty), unknown ids dropped. */
export function submission(
  questions: readonly QuestionShape[],
  choices: Choices,
): { answers: Array<{ questionId: string; optionIds: string[] }> } {
  return {
    answers: questions.map((q) => {
      const valid = new Set(q.options.map((o) => o.id));
      return { questionId: q.id, optionIds: (choices[q.id] ?? []).filter((id) => valid.has(id)) };
    }),
  };
}

export function answeredCount(questions: readonly QuestionShape[], choices: Choices): number {
  return questions.filter((q) => (choices[q.id] ?? []).length > 0).length;
}

/** The subset of Storage this needs (sessionStorage in the browser). */
export interface ChoiceStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const key = (attemptId: string) => `quizmesh.attempt.${attemptId}`;

export function saveChoices(store: ChoiceStore, attemptId: string, choices: Choices): void {
  store.setItem(key(attemptId), JSON.stringify(choices));
}

/** What was saved for this attempt; anything unreadable counts as nothing chosen. */
export function loadChoices(store: ChoiceStore, attemptId: string): Choices {
  const raw = store.getItem(key(attemptId));
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    const result: Record<string, string[]> = {};
    for (const [questionId, ids] of Object.entries(parsed)) {
      if (Array.isArray(ids) && ids.every((id) => typeof id === 'string')) result[questionId] = ids;
    }
    return result;
  } catch {
    return {};
  }
}

export function forgetChoices(store: ChoiceStore, attemptId: string): void {
  store.removeItem(key(attemptId));
}
