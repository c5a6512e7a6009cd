import {
  answeredCount,
  choose,
  forgetChoices,
  loadChoices,
  saveChoices,
  submission,
  type ChoiceStore,
} from '../src/lib/answers';

class MemoryStore implements ChoiceStore {
  readonly items = new Map<string, string>();
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
}

const questions = [
  { id: 'q1', options: [{ id: 'a' }, { id: 'b' }] },
  { id: 'q2', options: [{ id: 'c' }, { id: 'd' }, { id: 'e' }] },
  { id: 'q3', options: [{ id: 'f' }, { id: 'g' }] },
];

describe('answer selection', () => {
  it('single choice replaces the previous option', () => {
    let choices = choose({}, 'q1', 'single', 'a');
    choices = choose(choices, 'q1', 'single', 'b');
    expect(choices.q1).toEqual(['b']);
  });

  it('multiple choice toggles options independently', () => {
    let choices = choose({}, 'q2', 'multiple', 'c');
    choices = choose(choices, 'q2', 'multiple', 'e');
    expect(choices.q2).toEqual(['c', 'e']);
    choices = choose(choices, 'q2', 'multiple', 'c');
    expect(choices.q2).toEqual(['e']);
  });

  it('does not change the previous state (React compares references)', () => {
    const before = choose({}, 'q1', 'single', 'a');
    const after = choose(before, 'q1', 'single', 'b');
    expect(before.q1).toEqual(['a']);
    expect(after).not.toBe(before);
  });

  it('submits every question, unanswered ones empty, and drops ids the question does not have', () => {
    const choices = { q1: ['a'], q2: ['d', 'zz'], other: ['x'] };
    expect(submission(questions, choices)).toEqual({
      answers: [
        { questionId: 'q1', optionIds: ['a'] },
        { questionId: 'q2', optionIds: ['d'] },
        { questionId: 'q3', optionIds: [] },
      ],
    });
    expect(answeredCount(questions, choices)).toBe(2);
  });

  it('resumes the choices of the same attempt after a reload, and only that attempt', () => {
    const store = new MemoryStore();
    saveChoices(store, 'attempt-1', { q1: ['b'], q2: ['c', 'e'] });
    expect(loadChoices(store, 'attempt-1')).toEqual({ q1: ['b'], q2: ['c', 'e'] });
    expect(loadChoices(store, 'attempt-2')).toEqual({});
    forgetChoices(store, 'attempt-1');
    expect(loadChoices(store, 'attempt-1')).toEqual({});
  });

  it('treats damaged saved choices as none rather than failing the page', () => {
    const store = new MemoryStore();
    store.setItem('quizmesh.attempt.a', '{not json');
    store.setItem('quizmesh.attempt.b', '["q1"]');
    store.setItem('quizmesh.attempt.c', '{"q1":["a",3],"q2":["c"]}');
    expect(loadChoices(store, 'a')).toEqual({});
    expect(loadChoices(store, 'b')).toEqual({});
    expect(loadChoices(store, 'c')).toEqual({ q2: ['c'] });
  });
});
