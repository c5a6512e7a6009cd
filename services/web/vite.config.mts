/**
 * Builds the app into dist/ (hashed assets under dist/assets/), which the gateway serves at `/`.
 * `npm run dev:web` serves it with hot reload and proxies /api and /.well-known to a running
 * platform (QUIZMESH_URL, default http://127.0.0.1:8080, what `npm start` starts).
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const target = process.env.QUIZMESH_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
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
