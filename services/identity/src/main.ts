import { telemetry } from './instrumentation';
import { loadConfigOrExit, ServiceRuntime } from '@quizmesh/platform';
import { identityConfigSchema } from './config';
import { createIdentity } from './identity';

async function main() {
  const config = loadConfigOrExit('identity', identityConfigSchema);
  const runtime = new ServiceRuntime({ service: 'identity', config, telemetry }).handleSignals();
  const { app } = createIdentity(runtime, config);
  await runtime.listen(app);
}

main().catch((err: unknown) => {
  console.error('identity: failed to start:', err);
  process.exit(1);
});
