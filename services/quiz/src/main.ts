import { telemetry } from './instrumentation';
import { loadConfigOrExit, ServiceRuntime } from '@quizmesh/platform';
import { quizConfigSchema } from './config';
import { createQuiz } from './quiz';

async function main() {
  const config = loadConfigOrExit('quiz', quizConfigSchema);
  const runtime = new ServiceRuntime({ service: 'quiz', config, telemetry }).handleSignals();
  const { app } = createQuiz(runtime, config);
  await runtime.listen(app);
}

main().catch((err: unknown) => {
  console.error('quiz: failed to start:', err);
  process.exit(1);
});
