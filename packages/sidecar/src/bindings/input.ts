/**
 * Input bindings: once the app is ready, each binding whose route the app answers (OPTIONS, as
 * daprd probes it) starts and delivers to that route under the component's inbound policy.
 */
import type { Logger } from 'pino';
import type { LocalAppChannel } from '../app-channel/channel';
import type { ComponentSet } from '../components';
import { errorMessage } from '../errors';
import type { Resiliency } from '../resiliency/lookup';
import { StatusFailure, TargetPolicyRunner } from '../resiliency/policy';

export async function startInputBindings(deps: {
  components: ComponentSet;
  app: LocalAppChannel;
  resiliency: Resiliency;
  logger: Logger;
}): Promise<void> {
  const { components, app, resiliency, logger } = deps;
  for (const [name, entry] of components.inputBindings) {
    const probe = await app.request('OPTIONS', entry.route, {}, undefined).catch((err: unknown) => {
      logger.warn({ binding: name, err: errorMessage(err) }, 'input binding route probe failed');
      return undefined;
    });
    if (!probe || !((probe.status >= 200 && probe.status < 300) || probe.status === 405)) {
      logger.info(
        { binding: name, route: entry.route, status: probe?.status },
        'app does not listen on the input binding route; binding not started',
      );
      continue;
    }
    const policy = resiliency.componentInbound(name, entry.spec.type);
    const hasRetry = policy instanceof TargetPolicyRunner && policy.parts.retry !== undefined;
    entry.binding.start(async (data, headers) => {
      if (!app.isHealthy()) return;
      try {
        await policy.run(async (signal) => {
          const res = await app.request(
            'POST',
            entry.route,
            { ...headers, 'content-type': 'application/json' },
            data,
            signal,
          );
          // daprd: any 2xx is success, but under a retry policy only 200 counts.
          if (res.status !== 200 && !(res.status >= 200 && res.status < 300 && !hasRetry))
            throw new StatusFailure(res.status, undefined);
        });
      } catch (err) {
        logger.warn({ binding: name, err: errorMessage(err) }, 'input binding delivery failed');
      }
    });
    logger.info({ binding: name, route: entry.route }, 'input binding started');
  }
}
