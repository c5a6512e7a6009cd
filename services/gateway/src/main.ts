import { telemetry } from './instrumentation';
import { loadConfigOrExit, ServiceRuntime } from '@quizmesh/platform';
import { gatewayConfigSchema } from './config';
import { createGateway } from './gateway';
import { createGatewayServer, listenGateway } from './server';

async function main() {
  const config = loadConfigOrExit('gateway', gatewayConfigSchema);
  const runtime = new ServiceRuntime({ service: 'gateway', config, telemetry }).handleSignals();
  const gateway = await createGateway(runtime, config);
  runtime.shutdown.onShutdown('gateway connections', () => gateway.close());
  // Warm the key cache so the first requests do not wait for it (a failure is logged and retried on demand).
  void gateway.jwks.refresh();
  const server = createGatewayServer(gateway.app, config.MAX_HEADER_BYTES, {
    beforeClose: () => gateway.streams.close(),
    maxConnectionsPerAddress: config.MAX_CONNECTIONS_PER_ADDRESS,
    headersTimeoutMs: config.HEADERS_TIMEOUT_MS,
  });
  await listenGateway(runtime, server, config.PORT);
}

main().catch((err: unknown) => {
  console.error('gateway: failed to start:', err);
  process.exit(1);
});
