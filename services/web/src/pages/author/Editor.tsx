/**
 * Writing a quiz: create a draft, edit it (errors from the API shown at their field), preview it
 * as players will see it, publish, edit a published quiz into its next version, archive.
 */
import { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api, must } from '../../api/client';
import type { components } from '../../api/generated/schema';
import { ActionButton, ErrorNote, Field, Page } from '../../components';
import { useLoad } from '../../hooks';
import { ApiProblem } from '../../session';

type AuthorQuiz = components['schemas']['AuthorQuiz'];
type Difficulty = AuthorQuiz['difficulty'];

interface OptionDraft {
  id?: string | undefined;
  text: string;
  correct: boolean;
}
interface QuestionDraft {
  id?: string | undefined;
  type: 'single' | 'multiple';
  text: string;
  points: string;
  explanation: string;
  options: OptionDraft[];
}
interface QuizDraft {
  title: string;
  description: string;
  tags: string;
  difficulty: Difficulty;
  timeLimitMinutes: string;
  questions: QuestionDraft[];
}

const emptyQuestion = (): QuestionDraft => ({
  type: 'single',
  text: '',
  points: '1',
  explanation: '',
  options: [
    { text: '', correct: true },
    { text: '', correct: false },
  ],
});

const EMPTY: QuizDraft = {
  title: '',
  description: '',
  tags: '',
  difficulty: 'easy',
  timeLimitMinutes: '5',
  questions: [emptyQuestion()],
};

function fromQuiz(quiz: AuthorQuiz): QuizDraft {
  return {
    title: quiz.title,
    description: quiz.description,
    tags: quiz.tags.join(', '),
    difficulty: quiz.difficulty,
    timeLimitMinutes: String(quiz.timeLimitSeconds / 60),
    questions: quiz.questions.map((q) => ({
      id: q.id,
      type: q.type,
      text: q.text,
      points: String(q.points),
      explanation: q.explanation ?? '',
      options: q.options.map((o) => ({ id: o.id, text: o.text, correct: o.correct })),
    })),
  };
}

/** Numbers are sent as typed (NaN included), so the API, not the page, says what is wrong with them. */
function toRequest(draft: QuizDraft) {
  return {
    title: draft.title,
    description: draft.description,
    tags: draft.tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    difficulty: draft.difficulty,
    timeLimitSeconds: Math.round(Number(draft.timeLimitMinutes) * 60),
    questions: draft.questions.map((q) => ({
      ...(q.id ? { id: q.id } : {}),
      type: q.type,
      text: q.text,
      points: Number(q.points),
      ...(q.explanation.trim() ? { explanation: q.explanation } : {}),
      options: q.options.map((o) => ({ ...(o.id ? { id: o.id } : {}), text: o.text, correct: o.correct })),
    })),
  };
}

export function Editor() {
  const { quizId } = useParams();
  const navigate = useNavigate();
  const latest = useLoad(async () => {
    if (!quizId) return undefined;
    const versions = await must(api.GET('/api/v1/quizzes/{id}/versions', { params: { path: { id: quizId } } }));
    const last = versions.items.at(-1);
    if (!last) return undefined;
    return must(
      api.GET('/api/v1/quizzes/{id}/versions/{version}', { params: { path: { id: quizId, version: last.version } } }),
    );
  }, [quizId]);
  const [draft, setDraft] = useState<QuizDraft>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState('');
  const [preview, setPreview] = useState(false);
  useEffect(() => {
    if (latest.data) setDraft(fromQuiz(latest.data));
  }, [latest.data]);
  const quiz = latest.data;
  const editable = !quiz || quiz.status !== 'archived';

  const updateQuestion = (index: number, change: Partial<QuestionDraft>) =>
    setDraft((d) => ({ ...d, questions: d.questions.map((q, i) => (i === index ? { ...q, ...change } : q)) }));
  const updateOption = (qi: number, oi: number, change: Partial<OptionDraft>) =>
    setDraft((d) => ({
      ...d,
      questions: d.questions.map((q, i) => {
        if (i !== qi) return q;
        const options = q.options.map((o, j) => {
          if (j === oi) return { ...o, ...change };
          // Single choice: marking one correct unmarks the others.
          return change.correct && q.type === 'single' ? { ...o, correct: false } : o;
        });
        return { ...q, options };
      }),
    }));

  async function save() {
    setErrors({});
    setMessage('');
    try {
      const body = toRequest(draft);
      const saved = quizId
        ? await must(api.PUT('/api/v1/quizzes/{id}', { params: { path: { id: quizId } }, body }))
        : await must(api.POST('/api/v1/quizzes', { body }));
      setMessage(`Saved as draft version ${saved.version}.`);
      if (!quizId) navigate(`/author/quizzes/${saved.id}`, { replace: true });
      else latest.reload();
    } catch (e) {
      if (e instanceof ApiProblem && e.problem.errors?.length) {
        setErrors(e.fieldErrors());
        setMessage('Please correct the fields marked below.');
        return;
      }
      throw e;
    }
  }

  const err = (field: string) => errors[field];
  /** A text field of the quiz itself, bound to its key of the draft. */
  const draftField = (
    key: 'title' | 'description' | 'tags' | 'timeLimitMinutes',
    props: { id: string; label: string; error: string | undefined; multiline?: boolean; type?: string },
  ) => <Field {...props} value={draft[key]} onChange={(value) => setDraft({ ...draft, [key]: value })} />;
  /** A text field of question `qi`: its id and the error it shows follow from the key. */
  const questionField = (
    qi: number,
    key: 'text' | 'points' | 'explanation',
    props: { label: string; multiline?: boolean; type?: string },
  ) => (
    <Field
      {...props}
      id={`q${qi}-${key}`}
      value={draft.questions[qi]?.[key] ?? ''}
      onChange={(value) => updateQuestion(qi, { [key]: value })}
      error={err(`questions.${qi}.${key}`)}
    />
  );
  return (
    <Page title={quizId ? `Edit: ${quiz?.title ?? ''}` : 'New quiz'}>
      <ErrorNote error={latest.error} />
      {quiz && (
        <p className="meta">
          Version {quiz.version} · {quiz.versionStatus} · quiz {quiz.status}
        </p>
      )}
      <p role="status">{message}</p>
      {errors[''] && <p role="alert">{errors['']}</p>}
      <div className="toolbar">
        <button type="button" aria-pressed={preview} onClick={() => setPreview(!preview)}>
          {preview ? 'Back to editing' : 'Preview'}
        </button>
        {editable && <ActionButton label="Save draft" action={save} />}
        {quizId && quiz?.versionStatus === 'draft' && (
          <ActionButton
            label="Publish"
            action={async () => {
              await must(api.POST('/api/v1/quizzes/{id}/publish', { params: { path: { id: quizId } } }));
              setMessage('Published.');
              latest.reload();
            }}
          />
        )}
        {quizId && quiz && quiz.status !== 'archived' && (
          <ActionButton
            label="Archive"
            className="danger"
            action={async () => {
              await must(api.POST('/api/v1/quizzes/{id}/archive', { params: { path: { id: quizId } } }));
              setMessage('Archived.');
              latest.reload();
            }}
          />
        )}
      </div>
      {quiz?.versionStatus === 'published' && editable && (
        <p>
          Saving changes to this published quiz starts its next version as a draft; players keep the published one until
          you publish again.
        </p>
      )}
      {preview ? (
        <Preview draft={draft} />
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          {draftField('title', { id: 'title', label: 'Title', error: err('title') })}
          {draftField('description', {
            id: 'description',
            label: 'Description',
            multiline: true,
            error: err('description'),
          })}
          {draftField('tags', {
            id: 'tags',
            label: 'Tags (comma separated)',
            error: Object.entries(errors).find(([k]) => k.startsWith('tags'))?.[1],
          })}
          <div className="field">
            <label htmlFor="difficulty">Difficulty</label>
            <select
              id="difficulty"
              value={draft.difficulty}
              onChange={(e) => setDraft({ ...draft, difficulty: e.target.value as Difficulty })}
            >
              <option value="easy">easy</option>
              <option value="medium">medium</option>
              <option value="hard">hard</option>
            </select>
          </div>
          {draftField('timeLimitMinutes', {
            id: 'time-limit',
            label: 'Time limit (minutes)',
            type: 'number',
            error: err('timeLimitSeconds'),
          })}
          <h2>Questions</h2>
          {err('questions') && <p className="field-error">{err('questions')}</p>}
          {draft.questions.map((q, qi) => (
            <fieldset key={qi} className="question-editor">
              <legend>Question {qi + 1}</legend>
              {questionField(qi, 'text', { label: 'Question', multiline: true })}
              <div className="field">
                <label htmlFor={`q${qi}-type`}>Type</label>
                <select
                  id={`q${qi}-type`}
                  value={q.type}
                  onChange={(e) => updateQuestion(qi, { type: e.target.value as 'single' | 'multiple' })}
                >
                  <option value="single">single choice</option>
                  <option value="multiple">multiple choice</option>
                </select>
              </div>
              {questionField(qi, 'points', { label: 'Points', type: 'number' })}
              {questionField(qi, 'explanation', {
                label: 'Explanation (shown to players after scoring)',
                multiline: true,
              })}
              <fieldset>
                <legend>Options</legend>
                {err(`questions.${qi}.options`) && (
                  <p className="field-error" id={`q${qi}-options-error`}>
                    {err(`questions.${qi}.options`)}
                  </p>
                )}
                {q.options.map((o, oi) => (
                  <div key={oi} className="option-editor">
                    <Field
                      id={`q${qi}-o${oi}-text`}
                      label={`Option ${oi + 1}`}
                      value={o.text}
                      onChange={(text) => updateOption(qi, oi, { text })}
                      error={err(`questions.${qi}.options.${oi}.text`)}
                    />
                    <label>
                      <input
                        type="checkbox"
                        aria-label={`Option ${oi + 1} of question ${qi + 1} is correct`}
                        checked={o.correct}
                        onChange={(e) => updateOption(qi, oi, { correct: e.target.checked })}
                      />{' '}
                      correct
                    </label>
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Remove option ${oi + 1} of question ${qi + 1}`}
                      onClick={() => updateQuestion(qi, { options: q.options.filter((_, j) => j !== oi) })}
                    >
                      Remove
                    </button>
                  </div>
                ))}
                <button
                  type="button"
                  onClick={() => updateQuestion(qi, { options: [...q.options, { text: '', correct: false }] })}
                >
                  Add option
                </button>
              </fieldset>
              <button
                type="button"
                className="danger"
                onClick={() => setDraft((d) => ({ ...d, questions: d.questions.filter((_, i) => i !== qi) }))}
              >
                Remove question {qi + 1}
              </button>
            </fieldset>
          ))}
          <button
            type="button"
            onClick={() => setDraft((d) => ({ ...d, questions: [...d.questions, emptyQuestion()] }))}
          >
            Add question
          </button>
        </form>
      )}
    </Page>
  );
}

function Preview({ draft }: { draft: QuizDraft }) {
  return (
    <div className="preview">
      <h2>{draft.title || 'Untitled quiz'}</h2>
      <p>{draft.description}</p>
      <ol className="questions">
        {draft.questions.map((q, i) => (
          <li key={i}>
            <fieldset>
              <legend>{q.text || '(no question text)'}</legend>
              {q.options.map((o, j) => (
                <label key={j} className="option">
                  <input type={q.type === 'single' ? 'radio' : 'checkbox'} name={`preview-${i}`} /> {o.text}
                </label>
              ))}
            </fieldset>
          </li>
        ))}
      </ol>
    </div>
  );
}
