/**
 * A sweep worker process serving fake runs (sweep-fakes.ts) for the process-pool tests, keyed on agent.gamma (unused
 * by fake runs): 0.5 kills the worker mid-run (exit code 3), 0.9 takes 100 ms per update and stops when asked. Each
 * run folder gets `worker.pid`, the pid of the process that served it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { serveRuns } from '../../src/experiments/sweep/worker.js';
import { writeFakeRun } from './sweep-fakes.js';

serveRuns(async (task, signal) => {
  const config = parseConfig(task.config);
  if (config.agent.gamma === 0.5) {
    process.stderr.write('fake worker: about to crash\n');
    process.exit(3);
  }
  const outcome = await writeFakeRun({ ...task, config }, config.agent.gamma === 0.9 ? { msPerUpdate: 100 } : {}, signal);
  // Which process served the run, for the tests of process reuse.
  fs.writeFileSync(path.join(task.runDir, 'worker.pid'), String(process.pid));
  return outcome;
});
