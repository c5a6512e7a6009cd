import { telemetry } from './instrumentation';
import { loadConfigOrExit, ServiceRuntime } from '@quizmesh/platform';
import { evaluationConfigSchema } from './config';
import { createEvaluation } from './evaluation';

async function main() {
  const config = loadConfigOrExit('evaluation', evaluationConfigSchema);
  const runtime = new ServiceRuntime({ service: 'evaluation', config, telemetry }).handleSignals();
  const { app } = await createEvaluation(runtime, config);
  await runtime.listen(app);
}

main().catch((err: unknown) => {
  console.error('evaluation: failed to start:', err);
  process.exit(1);
});
