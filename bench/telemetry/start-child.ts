/**
 * One service's start as far as telemetry changes it, in a fresh process: telemetry on (an OTLP
 * endpoint where nothing listens: exports fail quietly) or off, then every module the service
 * loads before it listens, then the instrumentations (as ServiceRuntime does). Prints the time since the process
 * started and the CPU it used, as JSON. Run by start-cost.bench.ts; argv: <service> <on|off>.
 */
const MODULES: Record<string, string[]> = {
  gateway: ['services/gateway/src/gateway.ts', 'services/gateway/src/server.ts'],
  identity: ['services/identity/src/identity.ts'],
  quiz: ['services/quiz/src/quiz.ts'],
  evaluation: ['services/evaluation/src/evaluation.ts'],
  notification: ['services/notification/src/notification.ts'],
  operator: [
    'services/operator/src/app.ts',
    'services/operator/src/controller.ts',
    'services/operator/src/file-source.ts',
    'services/operator/src/kube-source.ts',
    'services/operator/src/leader.ts',
    'services/operator/src/quiz-client.ts',
  ],
};

async function main(): Promise<void> {
  const [service = '', mode = ''] = process.argv.slice(2);
  const modules = MODULES[service];
  if (!modules || (mode !== 'on' && mode !== 'off')) throw new Error('usage: start-child <service> <on|off>');
  const env = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: mode === 'on' ? 'http://127.0.0.1:9' : '' };
  // As each service's src/instrumentation.ts does, first.
  const { startTelemetryFromEnv } = await import('@quizmesh/platform/telemetry');
  const telemetry = startTelemetryFromEnv(service, env);
  const root = new URL('../../', `file://${__filename}`);
  for (const module of modules) await import(new URL(module, root).href);
  // As ServiceRuntime's constructor does, once the modules are loaded.
  telemetry.instrument();
  const cpu = process.cpuUsage();
  process.stdout.write(
    `${JSON.stringify({ service, mode, enabled: telemetry.enabled, readyMs: performance.now(), cpuMs: (cpu.user + cpu.system) / 1000 })}\n`,
  );
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
