/**
 * The conv torso (agents/conv.ts): im2col + matmul equals tf.conv2d ('valid'), the plain-TS pass equals the tfjs pass,
 * non-image observations are refused, and the noise probe's explicit per-sample conv gradients give the same
 * per-sample statistics as the fallback (one backward pass per sample), on a small random conv net and on a batch of
 * Breakout-MinAtar frames, for every component.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { applyConv, convPatches, imageShape, makeConv, perSampleConvGrads } from '../../agents/conv.js';
import { policyGradientParts } from '../../agents/losses.js';
import { ActorCritic, PlainForward } from '../../agents/networks.js';
import { buildNoiseProbe } from '../../agents/noise-probe.js';
import { toTensors, type SampleArrays } from '../../agents/samples.js';
import type { NoiseComponent } from '../../src/core/components.js';
import { ConfigError, exitCodeFor } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { Box, Discrete, type Space } from '../../src/core/spaces.js';
import { verifyFactors } from '../../src/monitor/factors.js';
import { fallbackGradStats, singleSampleGroups } from '../../src/monitor/per-sample.js';
import { factorStats } from '../../src/monitor/stacked.js';
import { networkSection } from '../../src/config/schema.js';
import { makeEnv } from '../../src/run/registry.js';

before(async () => {
  await tf.setBackend('cpu');
});

function randomImages(n: number, size: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n * size }, () => (rng.uniform() < 0.3 ? 1 : 0));
}

function samplesFor(obs: Float32Array, n: number, space: Space, rng: Rng): SampleArrays {
  const dim = space instanceof Box ? space.size : 1;
  return {
    obs,
    actions: Float32Array.from({ length: n * dim }, () => (space instanceof Discrete ? Math.floor(rng.uniform() * space.n) : rng.normal())),
    advantages: Float32Array.from({ length: n }, () => rng.normal()),
    returns: Float32Array.from({ length: n }, () => rng.normal()),
    oldLogProbs: new Float32Array(n),
    oldValues: new Float32Array(n),
  };
}

/** Max relative difference of two arrays (against the larger magnitude of the reference). */
function maxRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1e-12));
  return worst;
}

/** Per-sample |g_i|² and g_i·U of every component, fast path vs per-sample fallback; returns the worst relative gap. */
function compareFastAndFallback(net: ActorCritic, samples: SampleArrays, entCoef: number): number {
  const data = toTensors(net, samples);
  const probe = buildNoiseProbe({
    net,
    data,
    segments: new Int32Array(data.n),
    episodes: new Int32Array(data.n),
    lossParts: (out, batch) => policyGradientParts(net, out, batch),
    vfCoef: 0.5,
    entCoef,
    withValue: net.hasValue,
  });
  const groups = singleSampleGroups(data.n);
  const components = Object.keys(probe.components) as NoiseComponent[];
  let worst = 0;
  try {
    let fast: ReturnType<typeof factorStats>['stats'] = {};
    tf.tidy(() => {
      const factors = probe.factors!();
      for (const c of components) {
        const check = verifyFactors(factors, c, () => probe.components[c]!.tapped(probe.components[c]!.tapShapes.map((s) => tf.zeros([...s]) as tf.Tensor2D)).loss, data.n);
        assert.ok(check < 1e-4, `${c}: factors' batch gradient vs autodiff ${check}`);
      }
      fast = factorStats(factors, components, { groups }).stats;
    });
    for (const c of components) {
      const slow = fallbackGradStats(probe.components[c]!, groups);
      const f = fast[c]!.total;
      worst = Math.max(worst, maxRelative(f.sumSq, slow.total.sumSq), maxRelative(f.sumDot, slow.total.sumDot), maxRelative([f.totalSq], [slow.total.totalSq]));
    }
  } finally {
    probe.dispose();
  }
  if (process.env.GRADNOISE_PRINT_CONV) console.log(`max relative difference fast vs fallback: ${worst.toExponential(2)}`);
  return worst;
}

describe('conv torso', () => {
  it('im2col + matmul equals tf.conv2d (valid, stride 1) followed by ReLU, flattened row, col, channel', () => {
    const rng = new Rng('conv-layout');
    const shape = [6, 5, 3] as const;
    const layer = makeConv('t', shape, Float32Array.from({ length: 9 * 3 * 16 }, () => rng.normal()));
    tf.tidy(() => {
      layer.bias.assign(tf.tensor1d(Float32Array.from({ length: 16 }, () => rng.normal())));
      const x = tf.tensor2d(Float32Array.from({ length: 4 * 90 }, () => rng.normal()), [4, 90]);
      const ours = applyConv(x, layer);
      const reference = tf.reshape(tf.relu(tf.add(tf.conv2d(tf.reshape(x, [4, 6, 5, 3]) as tf.Tensor4D, layer.weight, 1, 'valid'), layer.bias)), [4, -1]);
      assert.deepEqual(ours.shape, [4, 4 * 3 * 16]);
      assert.deepEqual(convPatches(x, layer, 'plain').arraySync(), convPatches(x, layer, 'tfjs').arraySync(), 'im2col by copy and by gather agree');
      assert.ok(tf.max(tf.abs(tf.sub(ours, reference))).dataSync()[0]! < 1e-5);
    });
    tf.dispose([layer.weight, layer.bias]);
  });

  it('per-sample gradients (plain TS and tfjs) sum to the autodiff gradient of the summed loss', () => {
    const rng = new Rng('conv-grad');
    const layer = makeConv('g', [5, 5, 2], Float32Array.from({ length: 9 * 2 * 16 }, () => rng.normal()));
    tf.tidy(() => {
      const x = tf.tensor2d(Float32Array.from({ length: 3 * 50 }, () => rng.normal()), [3, 50]);
      const target = tf.tensor2d(Float32Array.from({ length: 3 * 144 }, () => rng.normal()), [3, 144]);
      // loss = Σ target ∘ ReLU(conv): δ at the pre-activation is target ∘ ReLU'.
      const y = applyConv(x, layer);
      const delta = tf.mul(target, tf.step(y)) as tf.Tensor2D;
      const perSample = perSampleConvGrads(x, delta, layer, 'plain');
      const viaTfjs = perSampleConvGrads(x, delta, layer, 'tfjs');
      assert.ok(tf.max(tf.abs(tf.sub(perSample, viaTfjs))).dataSync()[0]! < 1e-4, 'the plain and the tfjs per-sample products agree');
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(applyConv(x, layer), target)) as tf.Scalar, [layer.weight, layer.bias]);
      const reference = tf.concat([tf.reshape(grads[layer.weight.name]!, [-1]), grads[layer.bias.name]!]);
      assert.ok(tf.max(tf.abs(tf.sub(tf.sum(perSample, 0), reference))).dataSync()[0]! < 1e-4);
    });
    tf.dispose([layer.weight, layer.bias]);
  });

  it('the tfjs per-sample products agree with the plain ones across chunks (more samples than one chunk)', () => {
    const rng = new Rng('conv-chunks');
    const layer = makeConv('k', [4, 3, 1], Float32Array.from({ length: 9 * 16 }, () => rng.normal()));
    tf.tidy(() => {
      const n = 1100;
      const x = tf.tensor2d(randomImages(n, 12, rng), [n, 12]);
      const delta = tf.tensor2d(Float32Array.from({ length: n * 2 * 16 }, () => rng.normal()), [n, 32]);
      const plain = perSampleConvGrads(x, delta, layer, 'plain');
      assert.deepEqual(plain.shape, [n, 10 * 16]);
      assert.ok(tf.max(tf.abs(tf.sub(plain, perSampleConvGrads(x, delta, layer, 'tfjs')))).dataSync()[0]! < 1e-4);
    });
    tf.dispose([layer.weight, layer.bias]);
  });

  for (const shared of [false, true]) {
    it(`the plain-TS forward pass equals the tfjs pass (shared ${shared})`, () => {
      const rng = new Rng('conv-plain');
      const config = networkSection.parse({ torso: 'conv', hidden: [8], activation: 'relu', shared, policyGain: 1 });
      const net = new ActorCritic(4 * 4 * 3, new Discrete(3), config, rng.split('init'), { value: true, obsShape: [4, 4, 3] });
      const plain = new PlainForward(net);
      const obs = randomImages(5, 48, rng);
      const logits = new Float64Array(15);
      const values = new Float64Array(5);
      plain.both(obs, 5, logits, values);
      tf.tidy(() => {
        const out = net.forward(tf.tensor2d(obs, [5, 48]));
        assert.ok(maxRelative(logits, out.policy!.dataSync()) < 1e-4 || tf.max(tf.abs(tf.sub(out.policy!, tf.tensor2d(Float32Array.from(logits), [5, 3])))).dataSync()[0]! < 1e-5);
        assert.ok(tf.max(tf.abs(tf.sub(out.value!, tf.tensor1d(Float32Array.from(values))))).dataSync()[0]! < 1e-5);
      });
      const alone = new Float64Array(15);
      plain.policy(obs, 5, alone);
      assert.deepEqual(alone, logits);
      net.dispose();
    });
  }

  it('refuses non-image observations with a config error at agent.network.torso (exit 2)', () => {
    assert.throws(() => imageShape([4], 'CartPole-v1'), (e: unknown) => e instanceof ConfigError && exitCodeFor(e) === 2 && /agent\.network\.torso/.test(e.message) && /CartPole-v1/.test(e.message));
    assert.throws(() => imageShape([2, 2, 1], 'Tiny-v0'), ConfigError);
    const config = networkSection.parse({ torso: 'conv' });
    assert.throws(() => new ActorCritic(4, new Discrete(2), config, new Rng('x'), { value: true, obsShape: [4], envId: 'CartPole-v1' }), ConfigError);
  });
});

describe('exact per-sample conv gradient norms (fast path vs per-sample fallback)', () => {
  const cases = [
    { name: 'separate actor and critic, categorical', shared: false, space: new Discrete(3), entCoef: 0.01 },
    { name: 'shared trunk, categorical', shared: true, space: new Discrete(3), entCoef: 0.01 },
    { name: 'shared, no hidden layers, entCoef 0', shared: true, space: new Discrete(4), entCoef: 0, hidden: [] as number[] },
    { name: 'separate, Gaussian', shared: false, space: new Box(-1, 1, [2]), entCoef: 0.01 },
  ];
  for (const c of cases) {
    it(`small random conv net: ${c.name}`, () => {
      const rng = new Rng(`conv-probe-${c.name}`);
      const config = networkSection.parse({ torso: 'conv', hidden: c.hidden ?? [6], activation: 'relu', shared: c.shared, policyGain: 1 });
      const net = new ActorCritic(5 * 5 * 2, c.space, config, rng.split('init'), { value: true, obsShape: [5, 5, 2] });
      const n = 7;
      const worst = compareFastAndFallback(net, samplesFor(randomImages(n, 50, rng), n, c.space, rng), c.entCoef);
      assert.ok(worst < 1e-4, `max relative difference ${worst}`);
      net.dispose();
    });
  }

  it('a batch of Breakout-MinAtar frames, MinAtar torso (conv 16 + dense 128)', () => {
    const env = makeEnv('Breakout-MinAtar-v0', { numEnvs: 4 });
    const rng = new Rng('conv-breakout');
    const frames: number[] = [];
    let obs = env.reset(3);
    for (let t = 0; t < 3; t++) {
      frames.push(...obs);
      obs = env.step(Float32Array.from({ length: 4 }, () => Math.floor(rng.uniform() * 3))).obs;
    }
    const n = 12;
    const config = networkSection.parse({ torso: 'conv', hidden: [128], activation: 'relu', policyGain: 1 });
    const net = new ActorCritic(env.obsSize, env.actionSpace, config, rng.split('init'), { value: true, obsShape: env.observationSpace.shape });
    const worst = compareFastAndFallback(net, samplesFor(Float32Array.from(frames), n, env.actionSpace, rng), 0.01);
    assert.ok(worst < 1e-4, `max relative difference ${worst}`);
    net.dispose();
  });
});
