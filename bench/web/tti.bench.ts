/**
 * Time to interactive of the web app on this machine: Debian's Chromium (playwright-core) opens
 * the catalogue served by the gateway of a platform started by the launcher (real PostgreSQL,
 * Redis, RabbitMQ), and the clock stops when the first quiz link is on screen — the app has
 * loaded its JavaScript, rendered, fetched the catalogue through the API and drawn it, so it
 * answers input. Cold loads use a fresh browser context (empty cache); warm loads reuse one (the
 * hashed assets are immutable, so only index.html and the API are fetched). Also the JavaScript
 * bytes a cold load transfers. Prints a table and writes bench/results/web-tti.json.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ensureWebAppBuilt } from '@quizmesh/launcher';
import { createCast, quizBody, startE2EPlatform } from '@quizmesh/e2e';
import { launchChromium } from '../../services/web/test/support/chromium';
import { summary } from '../stats';
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const ROOT = join(__dirname, '..', '..');

interface Load {
  interactiveMs: number;
  firstContentfulPaintMs: number;
  domContentLoadedMs: number;
  scriptBytes: number;
}

/** In-page timings, relative to the navigation's start (performance.timeOrigin). */
async function measure(page: Page, url: string): Promise<Load> {
  await page.goto(url, { waitUntil: 'commit' });
  // A function, not a string: the page's CSP forbids eval, which a string predicate needs.
  const interactive = await page.waitForFunction(
    () =>
      (globalThis as unknown as { document: { querySelector(selector: string): unknown } }).document.querySelector(
        '.card a',
      )
        ? performance.now()
        : false,
    undefined,
    { polling: 'raf', timeout: 30_000 },
  );
  const interactiveMs = (await interactive.jsonValue()) as number;
  const timings = (await page.evaluate(`(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const scripts = performance.getEntriesByType('resource').filter((r) => r.initiatorType === 'script' || r.name.endsWith('.js'));
    return {
      domContentLoadedMs: nav ? nav.domContentLoadedEventEnd : NaN,
      firstContentfulPaintMs: fcp ? fcp.startTime : NaN,
      scriptBytes: scripts.reduce((sum, r) => sum + r.transferSize, 0),
    };
  })()`)) as Omit<Load, 'interactiveMs'>;
  return { interactiveMs, ...timings };
}

function table(name: string, loads: Load[]) {
  const pick = (key: keyof Load) => summary(loads.map((l) => l[key]));
  return {
    name,
    interactiveMs: pick('interactiveMs'),
    firstContentfulPaintMs: pick('firstContentfulPaintMs'),
    domContentLoadedMs: pick('domContentLoadedMs'),
    scriptBytes: Math.max(...loads.map((l) => l.scriptBytes)),
  };
}

async function main() {
  ensureWebAppBuilt(ROOT, (line) => console.log(line));
  const e2e = await startE2EPlatform({ backends: 'local' });
  let browser: Browser | undefined;
  try {
    const cast = await createCast(e2e.gateway, 0, 'bench-web');
    for (let i = 1; i <= 12; i += 1) await e2e.gateway.publishQuiz(cast.author, quizBody(`Bench quiz ${i}`));
    const url = `${e2e.platform.gatewayUrl}/`;
    browser = await launchChromium();

    const results = [];
    for (const viewport of [
      { name: 'desktop 1280 px', width: 1280, height: 800 },
      { name: 'phone 375 px', width: 375, height: 800 },
    ]) {
      const cold: Load[] = [];
      for (let i = 0; i < RUNS + 1; i += 1) {
        const context = await browser.newContext({ viewport });
        const load = await measure(await context.newPage(), url);
        if (i > 0) cold.push(load); // the first load warms the gateway and the quiz cache, not the browser
        await context.close();
      }
      results.push(table(`${viewport.name}, cold`, cold));
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      await measure(page, url);
      const warm: Load[] = [];
      for (let i = 0; i < RUNS; i += 1) warm.push(await measure(page, url));
      await context.close();
      results.push(table(`${viewport.name}, warm cache`, warm));
    }

    console.log(`\nTime to interactive of the catalogue (${RUNS} loads each; ms from navigation start)`);
    console.log('load                         interactive p50/p90   FCP p50   DOMContentLoaded p50   JS transferred');
    for (const r of results) {
      console.log(
        `${r.name.padEnd(28)} ${`${r.interactiveMs.p50} / ${r.interactiveMs.p90}`.padEnd(21)} ${String(r.firstContentfulPaintMs.p50).padEnd(9)} ${String(r.domContentLoadedMs.p50).padEnd(22)} ${(r.scriptBytes / 1024).toFixed(1)} kB`,
      );
    }
    const dir = join(__dirname, '..', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'web-tti.json');
    writeFileSync(
      file,
      `${JSON.stringify({ benchmark: 'web-tti', date: new Date().toISOString(), node: process.version, cpus: cpus().length, browser: `chromium ${browser.version()}`, runs: RUNS, results }, null, 2)}\n`,
    );
    console.log(`\nwrote ${file}`);
  } finally {
    await browser?.close();
    await e2e.stop();
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
