/**
 * Preloaded into the platform's Node processes by `lag.bench.ts --cpu-prof=DIR` (NODE_OPTIONS
 * `--require`; Node refuses `--cpu-prof` itself there). SIGUSR2 starts V8's sampling profiler,
 * the next SIGUSR2 writes `<DIR>/<argv-derived name>.<pid>.cpuprofile` (open it in Chrome
 * DevTools, or `bench/e2e/profile-summary.ts`): only the measured phase is profiled, not the
 * start-up or the preparation.
 */
'use strict';
const dir = process.env.QUIZMESH_CPU_PROFILE_DIR;
if (dir) {
  const { Session } = require('node:inspector');
  const { writeFileSync, mkdirSync } = require('node:fs');
  const { join } = require('node:path');
  const args = process.argv.join(' ');
  const appId = process.argv[process.argv.indexOf('--app-id') + 1];
  const service = /services\/([a-z-]+)\/(?:src|compiled|dist)\/main/.exec(args)?.[1];
  const name = args.includes('sidecar') && appId ? `${appId}-sidecar` : service ? `${service}-app` : 'node';
  let session;
  process.on('SIGUSR2', () => {
    if (!session) {
      session = new Session();
      session.connect();
      session.post('Profiler.enable');
      session.post('Profiler.setSamplingInterval', { interval: 200 });
      session.post('Profiler.start');
      return;
    }
    const current = session;
    session = undefined;
    current.post('Profiler.stop', (err, result) => {
      if (!err) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, `${name}.${process.pid}.cpuprofile`), JSON.stringify(result.profile));
      }
      current.disconnect();
    });
  });
}
