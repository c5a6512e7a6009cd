import { telemetry } from './instrumentation';
import { loadConfigOrExit, ServiceRuntime } from '@quizmesh/platform';
import { notificationConfigSchema } from './config';
import { createNotification } from './notification';

async function main() {
  const config = loadConfigOrExit('notification', notificationConfigSchema);
  const runtime = new ServiceRuntime({ service: 'notification', config, telemetry }).handleSignals();
  const { app } = createNotification(runtime, config);
  await runtime.listen(app);
}

main().catch((err: unknown) => {
  console.error('notification: failed to start:', err);
  process.exit(1);
});
