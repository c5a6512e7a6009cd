import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { createBrowserRouter, Link, Navigate, NavLink, Outlet, RouterProvider, useLocation } from 'react-router';
import { Page } from './components';
import { useSession } from './hooks';
import { liveStream } from './live';
import { AttemptResult } from './pages/AttemptResult';
import { Catalogue } from './pages/Catalogue';
import { Inbox } from './pages/Inbox';
import { Leaderboards } from './pages/Leaderboards';
import { Profile } from './pages/Profile';
import { QuizPage } from './pages/QuizPage';
import { SignIn } from './pages/SignIn';
import { TakeQuiz } from './pages/TakeQuiz';
import { hasRole, logout, type Role } from './session';
import { useUnreadCount } from './unread';

// Author and admin screens are separate chunks: players never download them (the bundle budget counts the player path).
const MyQuizzes = lazy(() => import('./pages/author/MyQuizzes').then((m) => ({ default: m.MyQuizzes })));
const Editor = lazy(() => import('./pages/author/Editor').then((m) => ({ default: m.Editor })));
const Users = lazy(() => import('./pages/admin/Users').then((m) => ({ default: m.Users })));
const DeadLetters = lazy(() => import('./pages/admin/DeadLetters').then((m) => ({ default: m.DeadLetters })));
const Status = lazy(() => import('./pages/admin/Status').then((m) => ({ default: m.Status })));

/** The app's routes; the gateway serves index.html for exactly these (services/gateway/src/web/static.ts). */
export const APP_ROUTE_PREFIXES = [
  '/',
  '/quizzes',
  '/attempts',
  '/leaderboards',
  '/profile',
  '/inbox',
  '/login',
  '/register',
  '/author',
  '/admin',
];

function Layout() {
  const me = useSession();
  const unread = useUnreadCount();
  const location = useLocation();
  useEffect(() => {
    // Signed in: the user's stream (boards and notifications); signed out: a visitor's (boards).
    liveStream.restart();
  }, [me]);
  useEffect(() => {
    // Move focus to the new page's heading, so keyboard and screen-reader users land on it.
    document.getElementById('page-title')?.focus();
  }, [location.pathname]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header>
        <Link to="/" className="brand">
          Quizmesh
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <NavLink to="/" end>
                Quizzes
              </NavLink>
            </li>
            <li>
              <NavLink to="/leaderboards">Leaderboards</NavLink>
            </li>
            {me && (
              <li>
                <NavLink to="/inbox">
                  Inbox{' '}
                  <span className="badge" aria-live="polite">
                    {unread ? (
                      <>
                        {unread}
                        <span className="visually-hidden"> unread</span>
                      </>
                    ) : null}
                  </span>
                </NavLink>
              </li>
            )}
            {me && (
              <li>
                <NavLink to="/profile">Profile</NavLink>
              </li>
            )}
            {hasRole(me, 'author', 'admin') && (
              <li>
                <NavLink to="/author/quizzes">My quizzes</NavLink>
              </li>
            )}
            {hasRole(me, 'admin') && (
              <li>
                <NavLink to="/admin/users">Admin</NavLink>
              </li>
            )}
            <li>
              {me ? (
                <button type="button" className="link" onClick={() => void logout()}>
                  Sign out
                </button>
              ) : (
                <NavLink to="/login">Sign in</NavLink>
              )}
            </li>
          </ul>
        </nav>
      </header>
      {hasRole(me, 'admin') && location.pathname.startsWith('/admin') && (
        <nav aria-label="Admin" className="subnav">
          <NavLink to="/admin/users">Users</NavLink> <NavLink to="/admin/dead-letters">Dead letters</NavLink>{' '}
          <NavLink to="/admin/status">Status</NavLink>
        </nav>
      )}
      <main id="main">
        <Suspense fallback={<p>Loading…</p>}>
          <Outlet />
        </Suspense>
      </main>
    </>
  );
}

/** Pages behind a sign-in or a role; the API refuses the calls anyway, this only says so clearly. */
function Require({ roles, children }: { roles?: Role[]; children: ReactNode }) {
  const me = useSession();
  const location = useLocation();
  if (!me) return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  if (roles && !hasRole(me, ...roles))
    return (
      <Page title="Not allowed">
        <p>This page is for {roles.join(' or ')} accounts.</p>
      </Page>
    );
  return <>{children}</>;
}

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: '/', element: <Catalogue /> },
      { path: '/quizzes/:quizId', element: <QuizPage /> },
      {
        path: '/quizzes/:quizId/play',
        element: (
          <Require>
            <TakeQuiz />
          </Require>
        ),
      },
      {
        path: '/attempts/:attemptId',
        element: (
          <Require>
            <AttemptResult />
          </Require>
        ),
      },
      { path: '/leaderboards', element: <Leaderboards /> },
      {
        path: '/profile',
        element: (
          <Require>
            <Profile />
          </Require>
        ),
      },
      {
        path: '/inbox',
        element: (
          <Require>
            <Inbox />
          </Require>
        ),
      },
      { path: '/login', element: <SignIn mode="login" /> },
      { path: '/register', element: <SignIn mode="register" /> },
      {
        path: '/author/quizzes',
        element: (
          <Require roles={['author', 'admin']}>
            <MyQuizzes />
          </Require>
        ),
      },
      {
        path: '/author/quizzes/new',
        element: (
          <Require roles={['author', 'admin']}>
            <Editor />
          </Require>
        ),
      },
      {
        path: '/author/quizzes/:quizId',
        element: (
          <Require roles={['author', 'admin']}>
            <Editor />
          </Require>
        ),
      },
      {
        path: '/admin/users',
        element: (
          <Require roles={['admin']}>
            <Users />
          </Require>
        ),
      },
      {
        path: '/admin/dead-letters',
        element: (
          <Require roles={['admin']}>
            <DeadLetters />
          </Require>
        ),
      },
      {
        path: '/admin/status',
        element: (
          <Require roles={['admin']}>
            <Status />
          </Require>
        ),
      },
      {
        path: '*',
        element: (
          <Page title="Not found">
            <p>
              There is no such page. <Link to="/">See the quizzes</Link>.
            </p>
          </Page>
        ),
      },
    ],
  },
]);

export function App() {
  return <RouterProvider router={router} />;
}
