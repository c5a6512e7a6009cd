// Imported first by main.ts: auto-instrumentation must patch http/express before they load.
import { startTelemetryFromEnv } from '@quizmesh/platform/telemetry';

export const telemetry = startTelemetryFromEnv('operator');
