/**
 * Mounting a service's public operations by operation id, from its registration in the system
 * registry (@quizmesh/contracts/registry): the path and method come from the registry, the
 * service only supplies one handler per operation id. A missing or extra handler throws, so a
 * service cannot start with an operation the gateway routes to nothing, or a handler nobody routes to.
 */
import type { Express, RequestHandler } from 'express';
import { bySpecificity, expressPath, routedOperations, type AppRegistration } from '@quizmesh/contracts/system';

/** One handler per operation id of the app (seed aliases use the handler of the operation they name). */
export type OperationHandlers = Readonly<Record<string, RequestHandler>>;

/** Mounts every operation of `app` and its seed aliases, literal paths first; throws on a missing or extra handler. */
export function mountOperations(target: Express, app: AppRegistration, handlers: OperationHandlers): void {
  const declared = new Set(app.operations.map((op) => op.operationId));
  const missing = [...declared].filter((id) => handlers[id] === undefined);
  const extra = Object.keys(handlers).filter((id) => !declared.has(id));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `${app.appId}: handlers do not match the registry (${[
        missing.length > 0 ? `missing: ${missing.join(', ')}` : '',
        extra.length > 0 ? `not in the registry: ${extra.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ')})`,
    );
  }
  for (const op of routedOperations(app).sort(bySpecificity)) {
    const handler = handlers[op.handler];
    if (handler) target[op.method](expressPath(op.path), handler);
  }
}
