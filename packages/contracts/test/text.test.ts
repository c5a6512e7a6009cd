import { registerRequestSchema, updateProfileRequestSchema } from '../src/identity-api';
import { createQuizRequestSchema } from '../src/quiz-api';

const account = { email: 'a@example.com', password: 'long enough pw' };
const question = {
  text: 'Which planet is largest?',
  type: 'single',
  options: [
    { text: 'Jupiter', correct: true },
    { text: 'Mars', correct: false },
  ],
};
const quiz = {
  title: 'Planets',
  description: 'About planets',
  difficulty: 'easy',
  timeLimitSeconds: 300,
  questions: [question],
};

// Each sits between visible characters, so trimming cannot remove it.
const invisible: [string, string][] = [
  ['LINE SEPARATOR U+2028', '\u2028'],
  ['PARAGRAPH SEPARATOR U+2029', '\u2029'],
  ['BYTE ORDER MARK U+FEFF', '\uFEFF'],
  ['ZERO WIDTH SPACE U+200B', '\u200B'],
  ['LEFT-TO-RIGHT MARK U+200E', '\u200E'],
  ['RIGHT-TO-LEFT OVERRIDE U+202E', '\u202E'],
  ['FIRST STRONG ISOLATE U+2068', '\u2068'],
  ['WORD JOINER U+2060', '\u2060'],
  ['SOFT HYPHEN U+00AD', '\u00AD'],
  ['a hidden tag character U+E0041', '\u{E0041}'],
  ['an escape (C0)', '\u001B'],
  ['a C1 control U+0085', '\u0085'],
];

describe('user-written text refuses control and invisible format characters', () => {
  it.each(invisible)('display names refuse %s', (_name, char) => {
    const parsed = registerRequestSchema.safeParse({ ...account, displayName: `Ada${char}Lovelace` });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['displayName']);
    expect(updateProfileRequestSchema.safeParse({ displayName: `Ada${char}L` }).success).toBe(false);
  });

  it.each(invisible)('quiz titles, descriptions, question and option texts refuse %s', (_name, char) => {
    const cases = [
      { ...quiz, title: `Plan${char}ets` },
      { ...quiz, description: `About${char}planets` },
      { ...quiz, questions: [{ ...question, text: `Which${char}planet?` }] },
      {
        ...quiz,
        questions: [{ ...question, options: [{ text: `Jup${char}iter`, correct: true }, question.options[1]] }],
      },
    ];
    for (const input of cases) expect(createQuizRequestSchema.safeParse(input).success).toBe(false);
  });

  it('keeps scripts that need joiners, emoji sequences, subdivision flags and line breaks where allowed', () => {
    for (const displayName of [
      'می\u200Cخواهم',
      '👩‍💻 Ada',
      '🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} Ada',
      'مريم',
    ]) {
      expect(registerRequestSchema.safeParse({ ...account, displayName }).success).toBe(true);
    }
    expect(createQuizRequestSchema.safeParse({ ...quiz, description: 'Line one\nLine two\ttabbed' }).success).toBe(
      true,
    );
  });
});
