/**
 * Taking a quiz. Starting again returns the open attempt (same deadline), and the choices made so
 * far come back from sessionStorage, so a reload resumes where the player was. The page only ever
 * has the player view of the quiz (no answer keys); when time runs out it submits what is chosen.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api, must } from '../api/client';
import { ErrorNote, Page } from '../components';
import {
  answeredCount,
  choose,
  forgetChoices,
  loadChoices,
  saveChoices,
  submission,
  type Choices,
} from '../lib/answers';
import { clockOffsetMs, countdown, countdownAnnouncement, type Countdown } from '../lib/countdown';
import { useLoad } from '../hooks';

export function TakeQuiz() {
  const { quizId = '' } = useParams();
  const navigate = useNavigate();
  const started = useLoad(async () => {
    const result = await api.POST('/api/v1/quizzes/{id}/attempts', { params: { path: { id: quizId } } });
    const data = await must(Promise.resolve(result));
    return { ...data, offsetMs: clockOffsetMs(result.response.headers.get('date'), Date.now()) };
  }, [quizId]);
  const attempt = started.data?.attempt;
  const quiz = started.data?.quiz;
  const [choices, setChoices] = useState<Choices>({});
  const [submitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<Error>();
  const submitted = useRef(false);

  useEffect(() => {
    if (attempt) setChoices(loadChoices(sessionStorage, attempt.id));
  }, [attempt]);

  async function submit() {
    if (!attempt || !quiz || submitted.current) return;
    submitted.current = true;
    setSubmitting(true);
    try {
      await must(
        api.POST('/api/v1/attempts/{id}/submit', {
          params: { path: { id: attempt.id } },
          body: submission(quiz.questions, choices),
        }),
      );
      forgetChoices(sessionStorage, attempt.id);
      navigate(`/attempts/${attempt.id}`);
    } catch (e) {
      submitted.current = false;
      setSubmitError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setSubmitting(false);
    }
  }

  const submitRef = useRef(submit);
  submitRef.current = submit;

  function pick(questionId: string, kind: 'single' | 'multiple', optionId: string) {
    if (!attempt) return;
    const next = choose(choices, questionId, kind, optionId);
    setChoices(next);
    saveChoices(sessionStorage, attempt.id, next);
  }

  return (
    <Page title={quiz ? quiz.title : 'Starting…'}>
      <ErrorNote error={started.error} />
      {attempt && quiz && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <Timer
            deadlineAt={attempt.deadlineAt}
            offsetMs={started.data?.offsetMs ?? 0}
            onExpire={() => void submitRef.current()}
          />
          <p className="meta">
            {answeredCount(quiz.questions, choices)} of {quiz.questions.length} answered
          </p>
          <ol className="questions">
            {quiz.questions.map((q, index) => (
              <li key={q.id}>
                <fieldset>
                  <legend>
                    <span className="visually-hidden">Question {index + 1}: </span>
                    {q.text}{' '}
                    <span className="meta">
                      ({q.points} {q.points === 1 ? 'point' : 'points'}
                      {q.type === 'multiple' ? ', choose all that apply' : ''})
                    </span>
                  </legend>
                  {q.options.map((o) => (
                    <label key={o.id} className="option">
                      <input
                        type={q.type === 'single' ? 'radio' : 'checkbox'}
                        name={`q-${q.id}`}
                        value={o.id}
                        checked={(choices[q.id] ?? []).includes(o.id)}
                        onChange={() => pick(q.id, q.type, o.id)}
                      />
                      {o.text}
                    </label>
                  ))}
                </fieldset>
              </li>
            ))}
          </ol>
          <button type="submit" disabled={submitting}>
            {submitting ? 'Submitting…' : 'Submit answers'}
          </button>
          <ErrorNote error={submitError} />
        </form>
      )}
    </Page>
  );
}

function Timer({ deadlineAt, offsetMs, onExpire }: { deadlineAt: string; offsetMs: number; onExpire: () => void }) {
  const [now, setNow] = useState(() => Date.now());
  const [announcement, setAnnouncement] = useState('');
  const previous = useRef<Countdown | undefined>(undefined);
  // Time running out submits once; a failed submit is then retried by the player, not every tick.
  const expiredOnce = useRef(false);
  const state = useMemo(() => countdown(deadlineAt, now, offsetMs), [deadlineAt, now, offsetMs]);
  useEffect(() => {
    const handle = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(handle);
  }, []);
  useEffect(() => {
    const said = countdownAnnouncement(previous.current, state);
    previous.current = state;
    if (said) setAnnouncement(said);
    if (state.expired && !expiredOnce.current) {
      expiredOnce.current = true;
      onExpire();
    }
  }, [state, onExpire]);
  return (
    <div className={state.urgent ? 'timer urgent' : 'timer'}>
      <span role="timer" aria-label="Time left">
        {state.label}
      </span>
      <span className="visually-hidden" aria-live="assertive">
        {announcement}
      </span>
    </div>
  );
}
