import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ErrorNote, Field, Page } from '../components';
import { ApiProblem, login, register } from '../session';

/** Only same-app paths: a `next` parameter must never send the player to another site. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

interface SignInField {
  id: 'email' | 'displayName' | 'password';
  label: string;
  type?: string;
  autoComplete: string;
}

/** The form's fields: a display name only when registering; the password manager's hint per mode. */
function fields(mode: 'login' | 'register'): SignInField[] {
  const displayName: SignInField = { id: 'displayName', label: 'Display name', autoComplete: 'nickname' };
  return [
    { id: 'email', label: 'Email', type: 'email', autoComplete: 'email' },
    ...(mode === 'register' ? [displayName] : []),
    {
      id: 'password',
      label: 'Password',
      type: 'password',
      autoComplete: mode === 'login' ? 'current-password' : 'new-password',
    },
  ];
}

export function SignIn({ mode }: { mode: 'login' | 'register' }) {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [values, setValues] = useState({ email: '', displayName: '', password: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError(undefined);
    try {
      if (mode === 'login') await login(values.email, values.password);
      else await register(values.email, values.displayName, values.password);
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
        {fields(mode).map((field) => (
          <Field
            key={field.id}
            {...field}
            value={values[field.id]}
            onChange={(value) => setValues((current) => ({ ...current, [field.id]: value }))}
            error={errors[field.id]}
            required
          />
        ))}
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
