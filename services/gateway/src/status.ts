/** GET /api/v1/status: the readiness of every upstream service, asked through Dapr invocation. */
import type { Express } from 'express';
import { z } from 'zod';
import { DaprCallError, type ServiceRuntime } from '@quizmesh/platform';

const upstreamStatusSchema = z.object({
  appId: z.string(),
  status: z.enum(['ready', 'not-ready', 'unreachable']),
  checks: z.unknown().optional(),
  error: z.string().optional(),
  /** the app's own status, for apps that have one (the operator: its Quiz resources) */
  details: z.unknown().optional(),
});

/** Apps whose own status endpoint /api/v1/status shows too (read through Dapr like /readyz). */
const STATUS_DETAILS: Record<string, string> = { operator: 'api/v1/operator/status' };

export const gatewayStatusSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    gateway: z.object({ appId: z.literal('gateway'), status: z.literal('ready') }),
    services: z.array(upstreamStatusSchema),
  })
  .meta({ id: 'GatewayStatus', description: 'Whether each service behind the gateway is ready.' });

export type UpstreamStatus = z.infer<typeof upstreamStatusSchema>;

export async function upstreamStatus(runtime: ServiceRuntime, appId: string): Promise<UpstreamStatus> {
  try {
    const body = await runtime.dapr.invoke<{ checks?: unknown }>(appId, 'readyz');
    const detailsPath = STATUS_DETAILS[appId];
    // Best effort: a failure here leaves the readiness answer as it is.
    const details = detailsPath
      ? await runtime.dapr.invoke<unknown>(appId, detailsPath).catch(() => undefined)
      : undefined;
    return { appId, status: 'ready', checks: body.checks, ...(details !== undefined ? { details } : {}) };
  } catch (err) {
    if (err instanceof DaprCallError && err.daprStatus === 503 && err.daprBody) {
      // The app answered: it is up but one of its checks fails.
      const parsed = safeJson(err.daprBody);
      if (parsed && typeof parsed === 'object' && 'checks' in parsed)
        return { appId, status: 'not-ready', checks: (parsed as { checks: unknown }).checks };
    }
    return { appId, status: 'unreachable', error: err instanceof Error ? err.message : String(err) };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function mountStatus(app: Express, runtime: ServiceRuntime, upstreams: readonly string[]) {
  app.get('/api/v1/status', async (_req, res) => {
    const services = await Promise.all(upstreams.map((id) => upstreamStatus(runtime, id)));
    const allReady = services.every((s) => s.status === 'ready');
    const body: z.infer<typeof gatewayStatusSchema> = {
      status: allReady ? 'ok' : 'degraded',
      gateway: { appId: 'gateway', status: 'ready' },
      services,
    };
    res.json(body);
  });
}
