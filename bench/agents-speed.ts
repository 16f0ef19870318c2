/**
 * Throughput of an agent's whole loop (collect + learn), by default PPO on CartPole-v1 with CleanRL's settings (4 envs
 * × 128 steps, 4 epochs × 4 minibatches of 128, 64-64 tanh, separate actor and critic), on the wasm and cpu backends.
 * Not a test:
 *   npx tsx bench/agents-speed.ts [--updates N] [--backends wasm,cpu] [--algo ppo|a2c|reinforce] [--envs N] [--probe]
 * `--probe` also builds the noise probe each update and runs one tapped backward pass on its `total` component
 * (roughly what the monitor's fast path costs on top), reported separately and included in the wall figure.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createAgent } from '../agents/index.js';
import { agentSection } from '../src/config.js';
import { makeEnv } from '../src/registry.js';
import { Rng } from '../src/rng.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : fallback;
};
const updates = Number(option('updates', '20'));
const backends = option('backends', 'wasm,cpu').split(',');
const algo = option('algo', 'ppo');
const numEnvs = Number(option('envs', algo === 'a2c' ? '8' : '4'));
const withProbe = args.includes('--probe');

for (const backend of backends) {
  await tf.setBackend(backend);
  await tf.ready();
  const config = agentSection.parse({ algo, ...(algo === 'a2c' ? {} : { numSteps: 128 }) });
  const env = makeEnv('CartPole-v1', { numEnvs });
  env.reset(1);
  const agent = createAgent(config, env, new Rng(1));
  const run = (count: number) => {
    let collectMs = 0;
    let learnMs = 0;
    let probeMs = 0;
    const cpu0 = process.cpuUsage();
    for (let u = 0; u < count; u++) {
      let t = performance.now();
      const batch = agent.collect();
      collectMs += performance.now() - t;
      if (withProbe) {
        t = performance.now();
        const probe = agent.noiseProbe(batch);
        const component = probe.components.total;
        if (component) {
          tf.tidy(() => {
            const taps = component.tapShapes.map((s) => tf.zeros([s[0], s[1]]) as tf.Tensor2D);
            tf.grads((...ts: tf.Tensor[]) => component.tapped(ts as tf.Tensor2D[]).loss)(taps);
          });
        }
        probeMs += performance.now() - t;
      }
      t = performance.now();
      agent.learn(batch, u / count);
      learnMs += performance.now() - t;
      env.drainEpisodes();
    }
    const cpu = process.cpuUsage(cpu0);
    return { collectMs, learnMs, probeMs, cpuS: (cpu.user + cpu.system) / 1e6 };
  };
  run(3); // warm-up
  const { collectMs, learnMs, probeMs, cpuS } = run(updates);
  const steps = updates * agent.stepsPerUpdate;
  const totalS = (collectMs + learnMs + probeMs) / 1000;
  // CPU time of this process is less sensitive than wall time to other work on the machine.
  console.log(
    `${backend.padEnd(5)} ${algo} CartPole-v1 ×${numEnvs}: ${(steps / totalS).toFixed(0)} env steps/s wall, ` +
      `${(steps / cpuS).toFixed(0)} per CPU-second (per ${agent.stepsPerUpdate}-step update: collect ${(collectMs / updates).toFixed(1)} ms, ` +
      `learn ${(learnMs / updates).toFixed(1)} ms` +
      (withProbe ? `, probe + tapped backward ${(probeMs / updates).toFixed(1)} ms` : '') +
      `)`,
  );
  agent.dispose();
}
