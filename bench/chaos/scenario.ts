/**
 * What a chaos scenario is (bench/chaos/scenarios/*.ts export one as default). `run` starts
 * what it needs on real backends, injects its faults, asserts, and tears down; it never throws
 * for a failed expectation: those go to `failures` (and `passed` is false).
 */
export interface ScenarioOptions {
  /** the CI version: fewer requests and shorter phases, still killing, restarting and asserting */
  short: boolean;
  /** progress lines for the terminal */
  out: (line: string) => void;
}

export interface ScenarioResult {
  passed: boolean;
  figures: Record<string, unknown>;
  failures: string[];
}

export interface ChaosScenario {
  /** R1, R2, … */
  id: string;
  title: string;
  run(opts: ScenarioOptions): Promise<ScenarioResult>;
}

/** Collects failed expectations with what was seen, instead of stopping at the first. */
export class Expectations {
  readonly failures: string[] = [];

  check(ok: boolean, what: string): boolean {
    if (!ok) this.failures.push(what);
    return ok;
  }

  equal(actual: unknown, expected: unknown, what: string): boolean {
    const same = JSON.stringify(actual) === JSON.stringify(expected);
    return this.check(same, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}
