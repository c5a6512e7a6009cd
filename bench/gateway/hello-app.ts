/**
 * The upstream of the gateway benchmark: a bare Express app answering a small JSON document,
 * and (playing identity) the JWKS in BENCH_JWKS. Prints `{"port":N}` once listening.
 */
import express from 'express';

const jwks = JSON.parse(process.env.BENCH_JWKS ?? '{"keys":[]}') as unknown;
const app = express();
app.disable('x-powered-by');
app.get('/.well-known/jwks.json', (_req, res) => {
  res.json(jwks);
});
app.use((_req, res) => {
  res.json({ hello: 'world', quizzes: [{ id: 'q-1', title: 'Space' }] });
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
