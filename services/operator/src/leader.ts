/**
 * Leader election with a coordination.k8s.io/v1 Lease, as client-go's leaderelection (the client
 * library for Node has none; docs/decisions/0802-operator-leader-election.md):
 * - a candidate takes the Lease when nobody holds it or the holder has not renewed it for
 *   `leaseDurationSeconds` *as observed locally* (the record's times come from other clocks);
 * - every write carries the resourceVersion it read, so of two candidates racing only one wins (409);
 * - the leader renews every `retryPeriodMs` and stops leading when it could not renew for
 *   `renewDeadlineMs` (shorter than the lease), before anyone else may take over;
 * - on shutdown the leader releases the Lease so a successor does not wait out the duration.
 */
import type { Logger } from 'pino';
import { ApiException, CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  leaseName: string;
  identity: string;
  logger: Logger;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void | Promise<void>;
  onStoppedLeading: () => void | Promise<void>;
}

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private leading = false;
  private lastRenewed = 0;
  private observed: { holder: string | undefined; renewTime: string | undefined; at: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly options: LeaderElectionOptions) {
    this.api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.leaseDurationSeconds = options.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationSeconds * 1000)
      throw new Error('the renew deadline must be shorter than the lease duration');
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.running = true;
    void this.tick();
  }

  /** Stops campaigning; a leader stops leading and releases the Lease. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.leading) {
      await this.setLeading(false);
      await this.release().catch((err: unknown) => this.options.logger.warn({ err }, 'lease not released'));
    }
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    try {
      const holding = await this.tryAcquireOrRenew();
      if (holding) this.lastRenewed = Date.now();
      if (holding && !this.leading) await this.setLeading(true);
      if (!holding && this.leading) await this.setLeading(false);
    } catch (err) {
      this.options.logger.warn({ err }, 'lease not renewed');
      if (this.leading && Date.now() - this.lastRenewed > this.renewDeadlineMs) await this.setLeading(false);
    }
    if (this.running) {
      this.timer = setTimeout(() => void this.tick(), this.retryPeriodMs);
      this.timer.unref();
    }
  }

  private async setLeading(leading: boolean): Promise<void> {
    this.leading = leading;
    this.options.logger.info(
      { lease: this.options.leaseName, identity: this.options.identity },
      leading ? 'started leading' : 'stopped leading',
    );
    // Not awaited by the renew loop for long: starting the controller must never delay a renewal.
    const transition = Promise.resolve(leading ? this.options.onStartedLeading() : this.options.onStoppedLeading());
    if (leading)
      transition.catch((err: unknown) => this.options.logger.error({ err }, 'starting the controller failed'));
    else await transition;
  }

  /** true when this candidate holds the Lease after the call. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, leaseName: name, identity } = this.options;
    const now = new Date();
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: this.leaseDurationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        });
        return true;
      } catch (createErr) {
        if (createErr instanceof ApiException && createErr.code === 409) return false; // another candidate was first
        throw createErr;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? undefined;
    const renewTime = spec.renewTime ? new Date(spec.renewTime).toISOString() : undefined;
    if (!this.observed || this.observed.holder !== holder || this.observed.renewTime !== renewTime) {
      this.observed = { holder, renewTime, at: Date.now() };
    }
    const duration = (spec.leaseDurationSeconds ?? this.leaseDurationSeconds) * 1000;
    const held = holder !== undefined && holder !== '' && holder !== identity;
    if (held && Date.now() - this.observed.at < duration) return false;
    const takingOver = holder !== identity;
    try {
      await this.api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...lease,
          spec: {
            ...spec,
            holderIdentity: identity,
            leaseDurationSeconds: this.leaseDurationSeconds,
            renewTime: now,
            ...(takingOver
              ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + (holder ? 1 : 0) }
              : {}),
          },
        },
      });
      return true;
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) return false; // someone else wrote it first
      throw err;
    }
  }

  private async release(): Promise<void> {
    const { namespace, leaseName: name, identity } = this.options;
    const lease = await this.api.readNamespacedLease({ name, namespace });
    if (lease.spec?.holderIdentity !== identity) return;
    await this.api.replaceNamespacedLease({
      name,
      namespace,
      body: {
        ...lease,
        spec: { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: new Date() },
      },
    });
  }
}
