/**
 * The web app in a real browser (Debian's Chromium through playwright-core) against the whole
 * platform started by the launcher on real PostgreSQL, Redis and RabbitMQ: an author registers,
 * writes and publishes; two players in separate browser contexts take the quiz and each sees the
 * other's result appear on the quiz's leaderboard without reloading; a player sees the review;
 * a player cannot reach author or admin pages and the API refuses them; an admin grants a role and
 * replays a dead letter. axe-core runs on every page visited, at 375 px too, with the CSP on.
 * Screenshots of the main pages are taken on every run (support/browser.ts says where).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eventTypeOf, userRegistered } from '@quizmesh/contracts/events';
import { ADMIN_EMAIL, eventually, missing, startE2EPlatform, type E2EPlatform } from '@quizmesh/e2e';
import { ensureWebAppBuilt } from '@quizmesh/launcher';
import { axeFindings, launchChromium, screenshot, type AxeFinding } from './support/browser';

const PASSWORD = 'correct horse battery staple';
const WAIT = 30_000;

describe('web app in a browser', () => {
  let e2e: E2EPlatform;
  let browser: Browser;
  let base: string;
  const contexts: BrowserContext[] = [];
  const findings: AxeFinding[] = [];
  const cspViolations: string[] = [];
  let quizId = '';

  beforeAll(async () => {
    ensureWebAppBuilt(join(__dirname, '..', '..', '..'), () => undefined);
    e2e = await startE2EPlatform({ backends: 'local' });
    base = e2e.platform.gatewayUrl;
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await e2e?.stop();
  }, 60_000);

  async function newPage(width = 1200): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text()))
        cspViolations.push(message.text());
    });
    return page;
  }

  /** Every page the tests visit is checked with axe once it shows its content. */
  async function visited(page: Page, label: string, shot?: string) {
    await page.locator('#page-title').waitFor();
    findings.push(...(await axeFindings(page, label)));
    if (shot) await screenshot(page, shot);
  }

  async function register(page: Page, email: string, name: string) {
    await page.goto(`${base}/register`);
    await visited(page, 'register');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Display name').fill(name);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  const run = randomUUID().slice(0, 8);
  let admin: Page;
  let author: Page;
  let player1: Page;
  let player2: Page;

  it('signs in with the refresh token out of reach of scripts, and keeps the session over a reload', async () => {
    admin = await newPage();
    await register(admin, ADMIN_EMAIL, 'Admin Ada');
    const storage = await admin.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    );
    expect(storage).not.toMatch(/eyJ/); // no JWT in web storage
    expect(await admin.evaluate(() => document.cookie)).not.toContain('qm_refresh');
    const cookies = await admin.context().cookies();
    expect(cookies.find((c) => c.name === 'qm_refresh')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
      path: '/api/v1/session',
    });
    await admin.reload();
    await admin.getByRole('link', { name: 'Admin' }).waitFor();
  });

  it('an author registers, is granted the role by the admin, writes a quiz (field errors at the field), previews and publishes it', async () => {
    author = await newPage();
    await register(author, `author.${run}@example.com`, `Author ${run}`);

    await admin.getByRole('link', { name: 'Admin' }).click();
    await visited(admin, 'admin users', 'admin-users');
    await admin
      .getByRole('row', { name: new RegExp(`Author ${run}`) })
      .getByRole('button', { name: 'Grant author' })
      .click();
    await admin
      .getByRole('row', { name: new RegExp(`Author ${run}`) })
      .getByRole('button', { name: 'Remove author' })
      .waitFor();

    // The new role arrives with the next token: a reload refreshes silently.
    await author.reload();
    await author.getByRole('link', { name: 'My quizzes' }).click();
    await visited(author, 'my quizzes');
    await author.getByRole('link', { name: 'New quiz' }).click();
    await visited(author, 'editor (new)');
    await author.locator('#title').fill(`Capitals ${run}`);
    await author.locator('#description').fill('Five seconds of geography.');
    await author.locator('#tags').fill('geography, capitals');
    await author.locator('#time-limit').fill('5');
    await author.locator('#q0-text').fill('What is the capital of France?');
    await author.locator('#q0-explanation').fill('Paris has been the capital since 987.');
    await author.locator('#q0-o0-text').fill('Paris');
    // Option 2 left empty: the API's error shows at that field.
    await author.getByRole('button', { name: 'Save draft' }).click();
    const fieldError = author.locator('#q0-o1-text-error');
    await fieldError.waitFor();
    expect(await author.locator('#q0-o1-text').getAttribute('aria-invalid')).toBe('true');
    expect(await author.locator('#q0-o1-text').getAttribute('aria-describedby')).toBe('q0-o1-text-error');
    findings.push(...(await axeFindings(author, 'editor with field errors')));
    await author.locator('#q0-o1-text').fill('Lyon');

    await author.getByRole('button', { name: 'Add question' }).click();
    await author.locator('#q1-text').fill('Which of these are capitals?');
    await author.locator('#q1-type').selectOption('multiple');
    await author.locator('#q1-points').fill('2');
    await author.locator('#q1-explanation').fill('Bern and Canberra are capitals; Sydney is not.');
    await author.locator('#q1-o0-text').fill('Bern');
    await author.locator('#q1-o1-text').fill('Sydney');
    await author.getByRole('button', { name: 'Add option' }).nth(1).click();
    await author.locator('#q1-o2-text').fill('Canberra');
    await author.getByRole('checkbox', { name: 'Option 1 of question 2 is correct' }).check();
    await author.getByRole('checkbox', { name: 'Option 3 of question 2 is correct' }).check();
    await author.getByRole('button', { name: 'Save draft' }).click();
    await author.waitForURL(/\/author\/quizzes\/[0-9a-f-]{36}$/);
    quizId = author.url().split('/').at(-1) ?? '';
    await author.getByRole('button', { name: 'Publish' }).waitFor();
    await screenshot(author, 'editor');

    await author.getByRole('button', { name: 'Preview' }).click();
    await author.getByRole('heading', { name: `Capitals ${run}`, exact: true }).waitFor();
    findings.push(...(await axeFindings(author, 'editor preview')));
    await author.getByRole('button', { name: 'Back to editing' }).click();
    await author.getByRole('button', { name: 'Publish' }).click();
    await author.getByText('Published.').waitFor();
  });

  it('two players take it (keyboard only, resuming after a reload) and each sees the other appear on the leaderboard without reloading', async () => {
    player1 = await newPage();
    player2 = await newPage(375);
    await register(player1, `p1.${run}@example.com`, `Player One ${run}`);
    await register(player2, `p2.${run}@example.com`, `Player Two ${run}`);

    // Both find the quiz through the catalogue's search.
    for (const page of [player1, player2]) {
      await page.goto(`${base}/?q=${encodeURIComponent(`Capitals ${run}`)}`);
      await page.getByRole('link', { name: `Capitals ${run}` }).click();
      await page.getByRole('heading', { name: 'Top 10' }).waitFor();
    }
    await visited(player1, 'quiz page');
    await visited(player2, 'quiz page at 375 px');

    // Player one plays with the keyboard: focus, Space, Enter.
    await player1.getByRole('link', { name: 'Take the quiz' }).press('Enter');
    await player1.getByRole('timer').waitFor();
    await visited(player1, 'take quiz', 'take-quiz');
    const paris = player1.getByRole('radio', { name: 'Paris' });
    await paris.focus();
    await player1.keyboard.press('Space');
    expect(await paris.isChecked()).toBe(true);
    const deadlineLabel = await player1.getByRole('timer').textContent();
    expect(deadlineLabel).toMatch(/^[45]:\d\d$/);

    // A reload resumes the same attempt with the choice made.
    await player1.reload();
    await player1.getByRole('timer').waitFor();
    expect(await player1.getByRole('radio', { name: 'Paris' }).isChecked()).toBe(true);
    for (const name of ['Bern', 'Canberra']) {
      await player1.getByRole('checkbox', { name }).focus();
      await player1.keyboard.press('Space');
    }
    // No answer key in the page before submitting.
    expect(await player1.content()).not.toContain('Paris has been the capital');
    await player1.getByRole('button', { name: 'Submit answers' }).focus();
    await player1.keyboard.press('Enter');
    await player1.waitForURL(/\/attempts\/[0-9a-f-]{36}$/);
    await player1.getByText(/3 of 3 points/).waitFor();
    await visited(player1, 'result', 'result');

    // Player two, still on the quiz page, sees player one arrive without a reload.
    await player2.getByRole('cell', { name: `Player One ${run}` }).waitFor();
    await screenshot(player2, 'quiz-leaderboard-375');

    // Player one goes back to the quiz page (in the app, no reload) and watches player two arrive.
    await player1.getByRole('link', { name: /Back to the quiz/ }).click();
    await player1.getByRole('heading', { name: 'Top 10' }).waitFor();
    await player2.getByRole('link', { name: 'Take the quiz' }).click();
    await player2.getByRole('timer').waitFor();
    await visited(player2, 'take quiz at 375 px');
    expect(await player2.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await player2.getByRole('radio', { name: 'Lyon' }).check();
    await player2.getByRole('button', { name: 'Submit answers' }).click();
    await player2.getByText(/0 of 3 points/).waitFor();
    await player1.getByRole('cell', { name: `Player Two ${run}` }).waitFor();
    await screenshot(player1, 'quiz-leaderboard');
  });

  it('a player sees the review with the correct options and the explanations (needs the attempt review endpoint)', async () => {
    await player2.getByRole('heading', { name: 'Review' }).waitFor();
    await player2.getByText('Paris has been the capital since 987.').waitFor();
    await player2.getByText('Bern and Canberra are capitals; Sydney is not.').waitFor();
    expect(await player2.getByText('— correct answer').count()).toBe(3);
    await visited(player2, 'review', 'review');
  });

  it('live leaderboards, profile and inbox (with its unread count) for a player', async () => {
    await player1.getByRole('link', { name: 'Leaderboards' }).click();
    await player1.getByRole('cell', { name: `Player One ${run}` }).waitFor();
    await visited(player1, 'leaderboards', 'leaderboards');

    await player1.getByRole('link', { name: 'Profile' }).click();
    await player1.getByText('Statistics').waitFor();
    await eventually('the profile shows the attempt', async () => {
      await player1.reload();
      await player1.getByText('Attempts').waitFor();
      const attempts = await player1.locator('dt:has-text("Attempts") + dd').textContent();
      if (attempts !== '1') throw missing(`attempts ${attempts}`);
    });
    await visited(player1, 'profile', 'profile');

    // The welcome and the result are in the inbox; the header counts them live.
    await player1.locator('header .badge').filter({ hasText: /\d/ }).waitFor();
    await player1.getByRole('link', { name: /Inbox/ }).click();
    await player1
      .locator('#main')
      .getByText(/^\d+ unread$/)
      .waitFor();
    await visited(player1, 'inbox', 'inbox');
    await player1.getByRole('button', { name: 'Mark all read' }).click();
    await player1.locator('#main').getByText('0 unread', { exact: true }).waitFor();
  });

  it("this week's board (needs GET /api/v1/leaderboards/weekly/current)", async () => {
    await player1.goto(`${base}/leaderboards`);
    await player1.getByRole('button', { name: 'This week' }).click();
    await player1
      .getByRole('table', { name: 'This week' })
      .getByRole('cell', { name: `Player One ${run}` })
      .waitFor();
    findings.push(...(await axeFindings(player1, 'leaderboards weekly')));
  });

  it('a player cannot reach author or admin pages, and the API refuses them', async () => {
    for (const path of [
      '/author/quizzes',
      '/author/quizzes/new',
      '/admin/users',
      '/admin/dead-letters',
      '/admin/status',
    ]) {
      await player1.goto(`${base}${path}`);
      await player1.getByRole('heading', { name: 'Not allowed' }).waitFor();
    }
    await visited(player1, 'not allowed');
    expect(await player1.getByRole('link', { name: 'Admin' }).count()).toBe(0);
    const statuses = await player1.evaluate(async () => {
      const csrf = /(?:^|; )qm_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
      const refreshed = await fetch('/api/v1/session/refresh', { method: 'POST', headers: { 'x-csrf-token': csrf } });
      const { accessToken } = (await refreshed.json()) as { accessToken: string };
      const as = { headers: { authorization: `Bearer ${accessToken}` } };
      return Promise.all(
        ['/api/v1/admin/users', '/api/v1/admin/dead-letters/evaluation', '/api/v1/quizzes?status=draft'].map(
          async (path) => (await fetch(path, as)).status,
        ),
      );
    });
    expect(statuses).toEqual([403, 403, 403]);
  });

  it('an admin sees the platform status and replays a dead letter', async () => {
    await admin.goto(`${base}/admin/status`);
    await admin.getByText('Overall:').waitFor();
    await visited(admin, 'status', 'admin-status');

    // A user.registered that evaluation could not handle, as Dapr dead-letters it.
    const eventId = randomUUID();
    await e2e.publishAs('identity', 'user.registered.deadletter', {
      specversion: '1.0',
      id: eventId,
      source: 'identity',
      type: eventTypeOf('user.registered', 1),
      datacontenttype: 'application/json',
      data: userRegistered.schema.parse({
        schemaVersion: 1,
        userId: randomUUID(),
        email: `late.${run}@example.com`,
        displayName: 'Late Registration',
        roles: ['player'],
        registeredAt: new Date().toISOString(),
      }),
    });
    await admin.getByRole('link', { name: 'Dead letters' }).click();
    await admin.getByLabel('Service').selectOption('evaluation');
    await eventually('the dead letter listed on the page', async () => {
      await admin.getByLabel('Service').selectOption('notification');
      await admin.getByLabel('Service').selectOption('evaluation');
      await admin
        .getByText(/dead letters in evaluation|user\.registered/)
        .first()
        .waitFor();
      if ((await admin.getByText('user.registered', { exact: true }).count()) === 0) throw missing('not listed yet');
    });
    await visited(admin, 'dead letters', 'admin-dead-letters');
    const item = admin.getByRole('listitem').filter({ hasText: 'user.registered' }).first();
    await item.getByRole('button', { name: 'Replay' }).click();
    await admin.getByText(/^Replayed /).waitFor();
    await admin.getByText('No dead letters in evaluation.').waitFor();
  });

  it('the catalogue and sign-in pages, signed out', async () => {
    const visitor = await newPage();
    await visitor.goto(`${base}/`);
    await visitor.getByRole('link', { name: `Capitals ${run}` }).waitFor();
    await visited(visitor, 'catalogue', 'catalogue');
    await visitor.goto(`${base}/?difficulty=hard`);
    await visitor.getByText('No quizzes match.').waitFor();
    await visitor.goto(`${base}/quizzes/${quizId}`);
    await visitor.getByRole('link', { name: 'Sign in' }).first().waitFor();
    await visited(visitor, 'quiz page signed out');
    // A visitor's leaderboard is live too (the stream without a token): a new player's result
    // appears on the quiz page without a reload.
    await visitor.getByRole('heading', { name: 'Top 10' }).waitFor();
    const newcomer = await e2e.gateway.register(`p3.${run}@example.com`, `Player Three ${run}`);
    const attempt = await e2e.gateway.startAttempt(newcomer, quizId);
    const view = (await (await fetch(`${base}/api/v1/quizzes/${quizId}`)).json()) as {
      questions: Array<{ id: string; options: Array<{ id: string }> }>;
    };
    await e2e.gateway.submit(
      newcomer,
      attempt.id,
      view.questions.map((q) => ({ questionId: q.id, optionIds: [q.options[0]?.id ?? ''] })),
    );
    await visitor.getByRole('cell', { name: `Player Three ${run}` }).waitFor();
    await visitor.goto(`${base}/login`);
    await visited(visitor, 'login', 'login');
    // Guarded pages send a visitor to sign in.
    await visitor.goto(`${base}/inbox`);
    await visitor.waitForURL(/\/login\?next=%2Finbox$/);
  });

  it('a player signs out and in again with the login form', async () => {
    await player2.getByRole('button', { name: 'Sign out' }).click();
    await player2.getByRole('link', { name: 'Sign in' }).waitFor();
    expect((await player2.context().cookies()).find((c) => c.name === 'qm_refresh')).toBeUndefined();
    await player2.getByRole('link', { name: 'Sign in' }).click();
    await player2.getByLabel('Email').fill(`p2.${run}@example.com`);
    await player2.getByLabel('Password').fill('not the password');
    await player2.getByRole('button', { name: 'Sign in' }).click();
    await player2.getByRole('alert').waitFor();
    await player2.getByLabel('Password').fill(PASSWORD);
    await player2.getByRole('button', { name: 'Sign in' }).click();
    await player2.getByRole('button', { name: 'Sign out' }).waitFor();
  });

  it('an author edits the published quiz into version 2, publishes it, and archives it', async () => {
    await author.goto(`${base}/author/quizzes/${quizId}`);
    await author.getByText('Version 1 · published').waitFor();
    await author.locator('#title').fill(`Capitals ${run}, second edition`);
    await author.getByRole('button', { name: 'Save draft' }).click();
    await author.getByText('Saved as draft version 2.').waitFor();
    await author.getByText('Version 2 · draft').waitFor();
    await author.getByRole('button', { name: 'Publish' }).click();
    await author.getByText('Version 2 · published').waitFor();
    await player1.goto(`${base}/quizzes/${quizId}`);
    await player1.getByRole('heading', { name: `Capitals ${run}, second edition` }).waitFor();

    await author.getByRole('button', { name: 'Archive' }).click();
    await author.getByText(/quiz archived/).waitFor();
    await player1.reload();
    await player1.getByRole('heading', { name: `Capitals ${run}, second edition` }).waitFor();
    expect(await player1.getByRole('link', { name: 'Take the quiz' }).count()).toBe(0);
  });

  it('no serious or critical accessibility finding and no CSP violation on any page visited', () => {
    expect(findings).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});
