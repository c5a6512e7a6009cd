/**
 * Service-invocation access control from the Configuration resource, evaluated by the
 * callee's sidecar as daprd does: operation + verb of the caller's policy, then that
 * policy's defaultAction, then the global defaultAction (deny when app policies exist
 * without one). `*` matches one path segment, `**` any number of segments.
 */
import type { AccessControlSpec } from '../resources/types';

function segments(path: string): string[] {
  return (
    path
      .split('?')[0]
      ?.split('/')
      .filter((s) => s !== '') ?? []
  );
}

function globMatch(pattern: string[], path: string[]): boolean {
  const [head, ...rest] = pattern;
  if (head === undefined) return path.length === 0;
  if (head === '**') {
    for (let i = 0; i <= path.length; i++) if (globMatch(rest, path.slice(i))) return true;
    return false;
  }
  const [first, ...tail] = path;
  if (first === undefined) return false;
  return (head === '*' || head === first) && globMatch(rest, tail);
}

export function operationMatches(pattern: string, method: string): boolean {
  return globMatch(segments(pattern), segments(method));
}

export function isInvocationAllowed(
  acl: AccessControlSpec | undefined,
  callerAppId: string,
  method: string,
  verb: string,
): boolean {
  if (!acl) return true;
  const globalDefault = acl.defaultAction ?? (acl.policies.length > 0 ? 'deny' : 'allow');
  const policy = acl.policies.find((p) => p.appId === callerAppId);
  if (!policy) return globalDefault === 'allow';
  const upperVerb = verb.toUpperCase();
  for (const op of policy.operations) {
    if (operationMatches(op.name, method) && (op.httpVerbs.includes('*') || op.httpVerbs.includes(upperVerb)))
      return op.action === 'allow';
  }
  return (policy.defaultAction ?? globalDefault) === 'allow';
}
