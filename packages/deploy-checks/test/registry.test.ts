/** The chart's `events:`, broadcast topics and rendered Subscriptions say what the system registry says. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CHART_DIR, renderChart } from '../src/helm';
import type { KubeObject } from '../src/objects';
import { chartRegistryMismatches } from '../src/registry';

const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as {
  events: Array<{ topic: string; consumers: string[] }>;
  services: Record<string, { broadcastTopics?: string[] }>;
};
let rendered: KubeObject[];

beforeAll(async () => {
  rendered = await renderChart();
});

describe('chart and system registry', () => {
  it('agree on events, broadcast topics and the rendered Subscriptions', () => {
    expect(rendered.filter((o) => o.kind === 'Subscription').length).toBeGreaterThan(0);
    expect(chartRegistryMismatches(values, rendered)).toEqual([]);
  });

  it('report a consumer the chart lacks, one it has extra, and a broadcast topic it forgot', () => {
    const changed = structuredClone(values);
    const quizCompleted = changed.events.find((e) => e.topic === 'quiz.completed');
    const attemptFailed = changed.events.find((e) => e.topic === 'attempt.failed');
    if (!quizCompleted || !attemptFailed) throw new Error('values.yaml lost its events');
    quizCompleted.consumers = [];
    attemptFailed.consumers.push('identity');
    changed.services.gateway = { ...changed.services.gateway, broadcastTopics: ['leaderboard.updated'] };
    const problems = chartRegistryMismatches(changed, rendered);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^values\.yaml events: missing .*"topic":"quiz\.completed".*"consumers":\["evaluation"\]/,
        ),
        expect.stringMatching(/^values\.yaml events: not in the registry .*"topic":"attempt\.failed".*"identity"/),
        expect.stringMatching(/^values\.yaml services\.gateway\.broadcastTopics: \["leaderboard\.updated"\]/),
      ]),
    );
  });

  it('reports a rendered Subscription the registry does not declare, and one that is missing', () => {
    const subscriptions = rendered.filter((o) => o.kind === 'Subscription');
    const [first, ...rest] = subscriptions;
    if (!first) throw new Error('no Subscription rendered');
    const stray = structuredClone(first);
    (stray.spec as { topic: string }).topic = 'stray.topic';
    const problems = chartRegistryMismatches(values, [...rest, stray]);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^rendered Subscriptions: missing /),
        expect.stringMatching(/^rendered Subscriptions: not in the registry .* stray\.topic -> /),
      ]),
    );
  });
});
