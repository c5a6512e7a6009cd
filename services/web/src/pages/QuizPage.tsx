import { Link, useParams } from 'react-router';
import { api, must } from '../api/client';
import { Board, ErrorNote, Page } from '../components';
import { useLoad, useSession } from '../hooks';
import { useLive } from '../live';

export function QuizPage() {
  const { quizId = '' } = useParams();
  const me = useSession();
  const quiz = useLoad(() => must(api.GET('/api/v1/quizzes/{id}', { params: { path: { id: quizId } } })), [quizId]);
  const board = useLoad(
    () =>
      must(
        api.GET('/api/v1/leaderboards/quiz/{quizId}', {
          params: { path: { quizId }, query: { limit: '10' } },
        }),
      ),
    [quizId, me?.userId],
  );
  useLive(
    (e) => e.type === 'leaderboard' && (e.data as { board?: string; quizId?: string }).quizId === quizId,
    board.reload,
  );
  const data = quiz.data;
  // Anonymous visitors (or a board not readable yet) get the top 10 the quiz itself carries.
  const rows =
    board.data?.entries ?? data?.leaderboard?.top.map((t) => ({ ...t, displayName: t.displayName ?? null })) ?? [];
  return (
    <Page title={data?.title ?? 'Quiz'}>
      <ErrorNote error={quiz.error} />
      {data && (
        <>
          <p>{data.description}</p>
          <p className="meta">
            {data.difficulty} · {data.questionCount} questions · {data.maxScore} points · time limit{' '}
            {Math.round(data.timeLimitSeconds / 60)} min
          </p>
          {data.status === 'published' &&
            (me ? (
              <Link className="button" to={`/quizzes/${quizId}/play`}>
                Take the quiz
              </Link>
            ) : (
              <p>
                <Link to={`/login?next=/quizzes/${quizId}/play`}>Sign in</Link> to take this quiz.
              </p>
            ))}
          <h2>Top 10</h2>
          <div aria-live="polite">
            <Board rows={rows} caption={`Best scores on ${data.title}`} me={me?.userId} />
          </div>
        </>
      )}
    </Page>
  );
}
