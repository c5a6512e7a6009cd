import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ErrorNote, Field, Page } from '../components';
import { ApiProblem, login, register } from '../session';

/** Only same-app paths: a `next` parameter must never send the player to another site. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function SignIn({ mode }: { mode: 'login' | 'register' }) {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError(undefined);
    try {
      if (mode === 'login') await login(email, password);
      else await register(email, displayName, password);
      navigate(safeNext(params.get('next')));
    } catch (err) {
      if (err instanceof ApiProblem && err.problem.errors?.length) setErrors(err.fieldErrors());
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Page title={mode === 'login' ? 'Sign in' : 'Create an account'}>
      <form onSubmit={submit} className="narrow">
        <Field
          id="email"
          label="Email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={setEmail}
          error={errors.email}
          required
        />
        {mode === 'register' && (
          <Field
            id="displayName"
            label="Display name"
            autoComplete="nickname"
            value={displayName}
            onChange={setDisplayName}
            error={errors.displayName}
            required
          />
        )}
        <Field
          id="password"
          label="Password"
          type="password"
          autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
          value={password}
          onChange={setPassword}
          error={errors.password}
          required
        />
        <button type="submit" disabled={busy}>
          {mode === 'login' ? 'Sign in' : 'Create account'}
        </button>
        <ErrorNote error={error} />
      </form>
      <p>
        {mode === 'login' ? (
          <Link to="/register">No account yet? Create one</Link>
        ) : (
          <Link to="/login">Have an account? Sign in</Link>
        )}
      </p>
    </Page>
  );
}
