/**
 * Builds the app into dist/ (hashed assets under dist/assets/), which the gateway serves at `/`.
 * `npm run dev:web` serves it with hot reload and proxies /api and /.well-known to a running
 * platform (QUIZMESH_URL, default http://127.0.0.1:8080, what `npm start` starts).
 */
import { gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/** JavaScript a player downloads before the first page works: the entry chunk and its static imports, gzipped. */
export const PLAYER_PATH_BUDGET_BYTES = 200 * 1024;

/** Fails the build when the player path outgrows its budget (author and admin screens are lazy chunks, not counted). */
function bundleBudget(): Plugin {
  return {
    name: 'quizmesh-bundle-budget',
    apply: 'build',
    generateBundle(_options, bundle) {
      const chunks = Object.values(bundle).flatMap((item) => (item.type === 'chunk' ? [item] : []));
      const byName = new Map(chunks.map((chunk) => [chunk.fileName, chunk]));
      const seen = new Set<string>();
      const visit = (fileName: string) => {
        const chunk = byName.get(fileName);
        if (!chunk || seen.has(fileName)) return;
        seen.add(fileName);
        chunk.imports.forEach(visit);
      };
      chunks.filter((chunk) => chunk.isEntry).forEach((chunk) => visit(chunk.fileName));
      const gzipped = [...seen].reduce((sum, fileName) => sum + gzipSync(byName.get(fileName)?.code ?? '').length, 0);
      const line = `player-path JavaScript: ${(gzipped / 1024).toFixed(1)} kB gzipped (budget ${PLAYER_PATH_BUDGET_BYTES / 1024} kB)`;
      if (gzipped > PLAYER_PATH_BUDGET_BYTES) this.error(line);
      this.info(line);
    },
  };
}

const target = process.env.QUIZMESH_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react(), bundleBudget()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // One stylesheet file: the gateway's CSP allows styles from 'self' only.
    cssCodeSplit: false,
    // The app's own budget (bundle-budget.ts) is the one that counts; Vite's is per chunk.
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': { target, changeOrigin: false },
      '/.well-known': { target, changeOrigin: false },
    },
  },
});
