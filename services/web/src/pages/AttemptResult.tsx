/** "Scoring…" until evaluation has scored the attempt (SSE notification or polling), then the result and the review. */
import { useEffect } from 'react';
import { Link, useParams } from 'react-router';
import { api, getReview, must } from '../api/client';
import { ErrorNote, Page } from '../components';
import { useLoad } from '../hooks';
import { useLive } from '../live';

export function AttemptResult() {
  const { attemptId = '' } = useParams();
  const attempt = useLoad(
    () => must(api.GET('/api/v1/attempts/{id}', { params: { path: { id: attemptId } } })),
    [attemptId],
  );
  const status = attempt.data?.status;
  const pending = status === 'SUBMITTED' || status === 'IN_PROGRESS';
  useLive(
    (e) => e.type === 'notification' && (e.data as { attemptId?: string }).attemptId === attemptId,
    attempt.reload,
  );
  useEffect(() => {
    // The stream may be down or the notification late: poll too, gently.
    if (!pending) return;
    const handle = setTimeout(attempt.reload, 1_000);
    return () => clearTimeout(handle);
  }, [pending, attempt.data, attempt.reload]);
  const review = useLoad(
    () => (status === 'SCORED' ? getReview(attemptId) : Promise.resolve(undefined)),
    [attemptId, status],
  );
  const score = attempt.data?.score;
  return (
    <Page title="Your result">
      <ErrorNote error={attempt.error} />
      <div aria-live="polite">
        {pending && <p className="scoring">Scoring…</p>}
        {status === 'FAILED' && <p role="alert">This attempt could not be scored: {attempt.data?.failureReason}</p>}
        {score && (
          <p className="score">
            {score.score} of {score.maxScore} points · {score.correctCount} of {score.questionCount} correct
            {attempt.data?.late ? ' · submitted late' : ''}
          </p>
        )}
      </div>
      {attempt.data && (
        <p>
          <Link to={`/quizzes/${attempt.data.quizId}`}>Back to the quiz and its leaderboard</Link>
        </p>
      )}
      <ErrorNote error={review.error} />
      {review.data && (
        <>
          <h2>Review</h2>
          <ol className="questions review">
            {review.data.map((q) => (
              <li key={q.questionId} className={q.correct ? 'right' : 'wrong'}>
                <h3>
                  {q.prompt}{' '}
                  <span className="meta">
                    ({q.correct ? 'correct' : 'not correct'}, {q.pointsAwarded} points)
                  </span>
                </h3>
                <ul>
                  {q.options.map((o) => (
                    <li key={o.id}>
                      {o.text}
                      {o.correct && <strong> — correct answer</strong>}
                      {q.selectedOptionIds.includes(o.id) && <em> — your choice</em>}
                    </li>
                  ))}
                </ul>
                {q.explanation && <p className="explanation">{q.explanation}</p>}
              </li>
            ))}
          </ol>
        </>
      )}
    </Page>
  );
}
