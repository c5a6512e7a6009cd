/**
 * Serves the web app (services/web, built by Vite) at `/`: hashed files under /assets/ are
 * immutable and cached for a year, index.html is revalidated on every load (so a deploy is seen
 * at once), and the app's own routes get index.html (SPA fallback). Everything else, /api/*
 * included, falls through to the routes after it and to the platform's 404 problem+json.
 * Every answer carries a strict Content-Security-Policy: scripts, styles and connections from
 * this origin only, no inline script, no framing (docs/decisions/0820). The app's files are
 * compressed (gzip or deflate, as the browser accepts); the API's answers and streams are not
 * touched (compression would buffer Server-Sent Events).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import compression from 'compression';
import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';

export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The first path segment of every page the app has (services/web/src/App.tsx); `/` is the catalogue. */
export const APP_ROUTES = [
  'quizzes',
  'attempts',
  'leaderboards',
  'profile',
  'inbox',
  'login',
  'register',
  'author',
  'admin',
];

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Where the built app is by default: services/web/dist, from src/ (tsx) as from dist/ (the image). */
export function defaultWebDistDir(): string {
  return resolve(__dirname, '..', '..', '..', 'web', 'dist');
}

export function isAppRoute(path: string): boolean {
  if (path === '/') return true;
  const first = path.split('/')[1] ?? '';
  // Page paths never have a file extension: /quizzes/x.js is a missing file, not a page.
  return APP_ROUTES.includes(first) && !/\.[a-z0-9]+$/i.test(path);
}

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('content-security-policy', WEB_CSP);
  res.setHeader('referrer-policy', 'same-origin');
  next();
};

/** Mounts the app when it is built; returns whether it did (the gateway runs without it, and says so). */
export function mountWebApp(app: Express, options: { distDir: string; logger: Logger }): boolean {
  const indexPath = join(options.distDir, 'index.html');
  if (!existsSync(indexPath)) {
    options.logger.warn(
      { distDir: options.distDir },
      'the web app is not built (npm run build -w @quizmesh/web): / answers 404',
    );
    return false;
  }
  const index = readFileSync(indexPath);
  const compress = compression();
  app.use(
    '/assets',
    securityHeaders,
    compress,
    express.static(join(options.distDir, 'assets'), {
      index: false,
      fallthrough: true,
      redirect: false,
      setHeaders: (res) => res.setHeader('cache-control', IMMUTABLE),
    }),
  );
  const sendIndex: RequestHandler = (req, res, next) => {
    if (!isAppRoute(req.path)) {
      next();
      return;
    }
    res.status(200);
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('content-security-policy', WEB_CSP);
    res.setHeader('referrer-policy', 'same-origin');
    res.end(req.method === 'HEAD' ? undefined : index);
  };
  app.get(/.*/, (req, res, next) =>
    isAppRoute(req.path) ? compress(req, res, () => sendIndex(req, res, next)) : next(),
  );
  return true;
}
