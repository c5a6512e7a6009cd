/**
 * One cleanup stack for everything the sidecar opens: each part pushes how to close it as soon
 * as it exists, and both a failed start and close() unwind the same stack, last opened first.
 */
import type { Logger } from 'pino';
import { errorMessage } from './errors';

export class CleanupStack {
  private readonly steps: Array<{ name: string; run: () => void | Promise<void> }> = [];

  push(name: string, run: () => void | Promise<void>): void {
    this.steps.push({ name, run });
  }

  /** Runs every step once, last pushed first; a step that fails is logged and the rest still run. */
  async unwind(logger: Logger): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.run();
      } catch (err) {
        logger.warn({ err: errorMessage(err), step: step.name }, 'did not close cleanly');
      }
    }
  }
}
