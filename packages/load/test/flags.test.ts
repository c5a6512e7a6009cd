import { FlagError, LOCAL_ADMIN_EMAIL, parseLoadFlags, type LoadOptions } from '../src/flags';

function options(argv: string[], env: NodeJS.ProcessEnv = {}): LoadOptions {
  const parsed = parseLoadFlags(argv, env);
  if (parsed.help) throw new Error('expected options, got --help');
  return parsed.options;
}

function refused(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseLoadFlags(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(FlagError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
}

describe('load flags', () => {
  it('defaults everything but the URL, and keeps only its origin', () => {
    const o = options(['--url', 'http://127.0.0.1:8080']);
    expect(o.url.origin).toBe('http://127.0.0.1:8080');
    expect(o).toMatchObject({
      players: 5,
      rate: 1,
      durationS: 60,
      accounts: 'load',
      publishEveryS: 60,
      resultTimeoutS: 30,
    });
    expect(o.out).toBeUndefined();
  });

  it('reads every flag', () => {
    const o = options(
      ['--url=https://quiz.example.com', '--players', '12', '--rate', '0.5', '--duration', '20', '--accounts', 'ci-7'],
      { QUIZMESH_LOAD_PASSWORD: 'a long enough secret' },
    );
    expect(o).toMatchObject({
      players: 12,
      rate: 0.5,
      durationS: 20,
      accounts: 'ci-7',
      playerPassword: 'a long enough secret',
    });
    expect(o.url.href).toBe('https://quiz.example.com/');
  });

  it.each([
    [[], /--url is required/],
    [['--url', 'quiz.example.com'], /absolute http\(s\) URL/],
    [['--url', 'ftp://quiz.example.com'], /http or https/],
    [['--url', 'https://user:pw@quiz.example.com'], /credentials/],
    [['--url', 'https://quiz.example.com/api'], /origin with no path/],
    [['--url', 'https://quiz.example.com/?x=1'], /origin with no path/],
    [['--url', 'http://127.0.0.1:8080', '--players', '0'], /--players must be a whole number from 1 to 50/],
    [['--url', 'http://127.0.0.1:8080', '--players', '51'], /from 1 to 50 \(one live stream each, .* 50 per address/],
    [['--url', 'http://127.0.0.1:8080', '--players', '2.5'], /--players must be a whole number/],
    [['--url', 'http://127.0.0.1:8080', '--rate', 'fast'], /--rate must be a number/],
    [['--url', 'http://127.0.0.1:8080', '--rate', '0'], /--rate must be a number from 0.01/],
    [['--url', 'http://127.0.0.1:8080', '--duration=-1'], /--duration must be a number from 1/],
    [['--url', 'http://127.0.0.1:8080', '--duration', ''], /--duration must be a number/],
    [['--url', 'http://127.0.0.1:8080', '--accounts', 'Bad Prefix'], /--accounts must be/],
    [['--url', 'http://127.0.0.1:8080', '--out', ''], /--out must name a file/],
    [['--url', 'http://127.0.0.1:8080', '--player', '3'], /Unknown option '--player'/],
    [['--url', 'http://127.0.0.1:8080', 'extra'], /positional/],
  ])('refuses %j', (argv, message) => {
    expect(refused(argv)).toMatch(message);
  });

  it('takes passwords only from the environment, never as flags', () => {
    expect(refused(['--url', 'http://127.0.0.1:8080', '--password', 'secret secret'])).toMatch(/Unknown option/);
    expect(refused(['--url', 'https://quiz.example.com', '--author-email', 'a@example.com'])).toMatch(
      /QUIZMESH_LOAD_AUTHOR_PASSWORD/,
    );
    expect(refused(['--url', 'https://quiz.example.com'], { QUIZMESH_LOAD_AUTHOR_PASSWORD: 'x'.repeat(12) })).toMatch(
      /--author-email is not/,
    );
    expect(refused(['--url', 'https://quiz.example.com'], { QUIZMESH_LOAD_PASSWORD: 'short' })).toMatch(/at least 10/);
  });

  it("uses npm start's local admin as the author on a loopback URL only; elsewhere it says the author is skipped", () => {
    expect(options(['--url', 'http://localhost:8080']).author).toMatchObject({
      email: LOCAL_ADMIN_EMAIL,
      source: 'local-default',
    });
    const cluster = options(['--url', 'https://quiz.example.com']);
    expect(cluster.author).toBeUndefined();
    expect(cluster.authorSkipReason).toMatch(/author part is skipped/);
    const given = options(['--url', 'https://quiz.example.com', '--author-email', 'ann@example.com'], {
      QUIZMESH_LOAD_AUTHOR_PASSWORD: 'authors secret 1',
    });
    expect(given.author).toEqual({ email: 'ann@example.com', password: 'authors secret 1', source: 'flags' });
  });

  it('answers --help', () => {
    expect(parseLoadFlags(['--help'])).toEqual({ help: true });
  });
});
