import { Link } from 'react-router';
import { api, must } from '../../api/client';
import { ErrorNote, Page, Table } from '../../components';
import { useLoad, useSession } from '../../hooks';

export function MyQuizzes() {
  const me = useSession();
  const quizzes = useLoad(async () => {
    const lists = await Promise.all(
      (['draft', 'published', 'archived'] as const).map((status) =>
        must(api.GET('/api/v1/quizzes', { params: { query: { status, limit: 100 } } })),
      ),
    );
    // Published lists everyone's quizzes; drafts and archived ones are already the caller's own.
    const mine = lists.flatMap((l) => l.items).filter((q) => q.authorId === me?.userId);
    return [...new Map(mine.map((q) => [q.id, q])).values()];
  }, [me?.userId]);
  return (
    <Page title="My quizzes">
      <p>
        <Link className="button" to="/author/quizzes/new">
          New quiz
        </Link>
      </p>
      <ErrorNote error={quizzes.error} />
      {quizzes.data?.length === 0 && <p>You have not written a quiz yet.</p>}
      <Table
        kind="list"
        caption="Your quizzes"
        rows={quizzes.data}
        rowKey={(q) => q.id}
        columns={[
          { header: 'Title', cell: (q) => <Link to={`/author/quizzes/${q.id}`}>{q.title}</Link> },
          { header: 'Status', cell: (q) => q.status },
          { header: 'Version', cell: (q) => q.version },
        ]}
      />
    </Page>
  );
}
