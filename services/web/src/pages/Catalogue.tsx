import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, must } from '../api/client';
import { ErrorNote, Page } from '../components';
import { useLoad } from '../hooks';

const DIFFICULTIES = ['easy', 'medium', 'hard'] as const;
type Difficulty = (typeof DIFFICULTIES)[number];

export function Catalogue() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const tag = params.get('tag') ?? '';
  const difficulty = (DIFFICULTIES as readonly string[]).includes(params.get('difficulty') ?? '')
    ? (params.get('difficulty') as Difficulty)
    : undefined;
  const cursor = params.get('cursor') ?? undefined;
  const [draft, setDraft] = useState({ q, tag, difficulty: difficulty ?? '' });
  const list = useLoad(
    () =>
      must(
        api.GET('/api/v1/quizzes', {
          params: {
            query: {
              ...(q ? { q } : {}),
              ...(tag ? { tag } : {}),
              ...(difficulty ? { difficulty } : {}),
              ...(cursor ? { cursor } : {}),
              limit: 12,
            },
          },
        }),
      ),
    [q, tag, difficulty, cursor],
  );

  function search(e: FormEvent) {
    e.preventDefault();
    const next = new URLSearchParams();
    if (draft.q.trim()) next.set('q', draft.q.trim());
    if (draft.tag.trim()) next.set('tag', draft.tag.trim().toLowerCase());
    if (draft.difficulty) next.set('difficulty', draft.difficulty);
    setParams(next);
  }

  return (
    <Page title="Quizzes">
      <form role="search" className="filters" onSubmit={search}>
        <label htmlFor="search-q">Search</label>
        <input
          id="search-q"
          type="search"
          value={draft.q}
          onChange={(e) => setDraft({ ...draft, q: e.target.value })}
        />
        <label htmlFor="search-tag">Tag</label>
        <input id="search-tag" value={draft.tag} onChange={(e) => setDraft({ ...draft, tag: e.target.value })} />
        <label htmlFor="search-difficulty">Difficulty</label>
        <select
          id="search-difficulty"
          value={draft.difficulty}
          onChange={(e) => setDraft({ ...draft, difficulty: e.target.value })}
        >
          <option value="">any</option>
          {DIFFICULTIES.map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={list.error} />
      {list.data && list.data.items.length === 0 && <p>No quizzes match.</p>}
      <ul className="cards">
        {list.data?.items.map((quiz) => (
          <li key={quiz.id} className="card">
            <h2>
              <Link to={`/quizzes/${quiz.id}`}>{quiz.title}</Link>
            </h2>
            <p>{quiz.description}</p>
            <p className="meta">
              {quiz.difficulty} · {quiz.questionCount} questions · {Math.round(quiz.timeLimitSeconds / 60)} min
              {quiz.tags.length > 0 && <> · {quiz.tags.map((t) => `#${t}`).join(' ')}</>}
            </p>
          </li>
        ))}
      </ul>
      <nav aria-label="Pages" className="pager">
        {cursor && (
          <button type="button" onClick={() => history.back()}>
            Previous page
          </button>
        )}
        {list.data?.nextCursor && (
          <button
            type="button"
            onClick={() => {
              const next = new URLSearchParams(params);
              next.set('cursor', list.data?.nextCursor ?? '');
              setParams(next);
            }}
          >
            Next page
          </button>
        )}
      </nav>
    </Page>
  );
}
