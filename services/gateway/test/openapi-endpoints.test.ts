/** The OpenAPI document and the docs page, as the running gateway serves them. */
import type { OpenApiDocument } from '../src/openapi/document';
import { publicApiDocument } from '../src/openapi/public-api';
import { echo, startHarness, type Harness } from './support/harness';

describe('OpenAPI endpoints', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ apps: { quiz: echo } });
  });
  afterAll(() => h.close());

  it('serves the document at /api/v1/openapi.json without a token', async () => {
    const res = await fetch(`${h.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const served = (await res.json()) as OpenApiDocument;
    expect(served).toEqual(JSON.parse(JSON.stringify(publicApiDocument(served.info.version))));
  });

  it('serves a self-contained docs page with its assets from the gateway itself', async () => {
    const page = await fetch(`${h.url}/api/v1/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets).toEqual([
      '/api/v1/docs/swagger-ui.css',
      '/api/v1/docs/swagger-ui-bundle.js',
      '/api/v1/docs/init.js',
    ]);
    for (const asset of assets) {
      const res = await fetch(`${h.url}${asset}`);
      expect([asset, res.status]).toEqual([asset, 200]);
      expect(res.headers.get('content-type')).toMatch(asset.endsWith('.css') ? /^text\/css/ : /javascript/);
    }
    expect(await (await fetch(`${h.url}/api/v1/docs/init.js`)).text()).toContain('"/api/v1/openapi.json"');
  });
});
