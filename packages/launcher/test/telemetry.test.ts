/**
 * `npm start -- --telemetry[=URL]`: the flag's parsing and what the banner says, probing a real
 * HTTP server on a free port (and a closed one).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_OTLP_ENDPOINT, describeTelemetry, normaliseTelemetryArgs, parseOtlpEndpoint } from '../src/telemetry';

describe('--telemetry', () => {
  it('alone means the default endpoint; a value is kept', () => {
    expect(normaliseTelemetryArgs(['--only=quiz', '--telemetry'])).toEqual([
      '--only=quiz',
      `--telemetry=${DEFAULT_OTLP_ENDPOINT}`,
    ]);
    expect(normaliseTelemetryArgs(['--telemetry=http://10.0.0.5:4318'])).toEqual(['--telemetry=http://10.0.0.5:4318']);
  });

  it('takes http(s) URLs only, without a trailing slash', () => {
    expect(parseOtlpEndpoint('http://127.0.0.1:4318/')).toBe('http://127.0.0.1:4318');
    expect(parseOtlpEndpoint('https://otel.example.com')).toBe('https://otel.example.com');
    expect(parseOtlpEndpoint('grpc://127.0.0.1:4317')).toBeUndefined();
    expect(parseOtlpEndpoint('4318')).toBeUndefined();
  });

  it('says whether a receiver answers at the URL', async () => {
    const server = http.createServer((_req, res) => res.writeHead(405).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const answering = await describeTelemetry(`http://127.0.0.1:${port}`);
      expect(answering.join('\n')).toMatch(/an OTLP receiver answers/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    // the same port, now closed: nothing answers, and the banner says how to run a receiver
    const silent = await describeTelemetry(`http://127.0.0.1:${port}`);
    expect(silent.join('\n')).toMatch(/nothing answers there yet[\s\S]*jaegertracing\/jaeger/);
  });
});
