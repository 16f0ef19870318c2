import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ActorCritic } from '../../agents/networks.js';
import { ppoLoss } from '../../agents/ppo.js';
import {
  assertFinite,
  categoricalTerms,
  computeGae,
  discountedReturns,
  explainedVariance,
  FlatOptimizer,
  gaussianTerms,
  lossAndGrads,
  normalizeAdvantages,
  ppoFusedLoss,
  toTensors,
  type SampleArrays,
} from '../../agents/shared.js';
import { networkSection, optimizerSection, ppoSection } from '../../src/config/schema.js';
import { DivergedError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { Box, Discrete, type Space } from '../../src/core/spaces.js';

before(async () => {
  await tf.setBackend('cpu');
});

const close = (actual: number, expected: number, tol = 1e-5, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what} ${actual} vs ${expected}`);

describe('computeGae', () => {
  const gamma = 0.9;
  const base = {
    numEnvs: 1,
    numSteps: 3,
    rewards: [1, 2, 3],
    values: [0.5, 0.4, 0.3],
    finalValues: [0, 0, 0],
    lastValues: [0.2],
    gamma,
  };
  const run = (overrides: Partial<Parameters<typeof computeGae>[0]>) => {
    const adv = new Float32Array(3);
    const ret = new Float32Array(3);
    computeGae({ ...base, terminated: [0, 0, 0], truncated: [0, 0, 0], lambda: 0.8, ...overrides }, adv, ret);
    return { adv, ret };
  };

  it('bootstraps from the next value inside an episode and from lastValues at the rollout end', () => {
    const lambda = 0.8;
    const { adv, ret } = run({ lambda });
    const d2 = 3 + gamma * 0.2 - 0.3;
    const d1 = 2 + gamma * 0.3 - 0.4;
    const d0 = 1 + gamma * 0.4 - 0.5;
    const a2 = d2;
    const a1 = d1 + gamma * lambda * a2;
    const a0 = d0 + gamma * lambda * a1;
    [a0, a1, a2].forEach((a, t) => close(adv[t]!, a, 1e-6, `A${t}`));
    [a0 + 0.5, a1 + 0.4, a2 + 0.3].forEach((r, t) => close(ret[t]!, r, 1e-6, `R${t}`));
  });

  it('gives plain n-step returns with λ = 1', () => {
    const { ret } = run({ lambda: 1 });
    close(ret[0]!, 1 + gamma * 2 + gamma ** 2 * 3 + gamma ** 3 * 0.2, 1e-6);
    close(ret[2]!, 3 + gamma * 0.2, 1e-6);
  });

  it('does not bootstrap a terminated step', () => {
    const lambda = 0.8;
    const { adv } = run({ lambda, terminated: [0, 1, 0], finalValues: [0, 99, 0] });
    const a1 = 2 - 0.4;
    const a0 = 1 + gamma * 0.4 - 0.5 + gamma * lambda * a1;
    close(adv[1]!, a1, 1e-6);
    close(adv[0]!, a0, 1e-6);
    close(adv[2]!, 3 + gamma * 0.2 - 0.3, 1e-6);
  });

  it('bootstraps a truncated step from V(final observation), not from the next episode', () => {
    const lambda = 0.8;
    const { adv } = run({ lambda, truncated: [0, 1, 0], finalValues: [0, 0.9, 0] });
    const a1 = 2 + gamma * 0.9 - 0.4;
    close(adv[1]!, a1, 1e-6);
    close(adv[0]!, 1 + gamma * 0.4 - 0.5 + gamma * lambda * a1, 1e-6);
  });

  it('keeps envs apart (env-major layout)', () => {
    const adv = new Float32Array(4);
    const ret = new Float32Array(4);
    computeGae(
      { numEnvs: 2, numSteps: 2, rewards: [1, 1, 5, 5], values: [0, 0, 0, 0], terminated: [0, 0, 0, 1], truncated: [0, 0, 0, 0], finalValues: [0, 0, 0, 0], lastValues: [10, 10], gamma: 1, lambda: 1 },
      adv,
      ret,
    );
    assert.deepEqual(Array.from(ret), [12, 11, 10, 5]);
  });
});

describe('discountedReturns', () => {
  it('sums discounted rewards to go, with an optional bootstrap', () => {
    assert.deepEqual(Array.from(discountedReturns([1, 1, 1], 0.5)), [1.75, 1.5, 1]);
    assert.deepEqual(Array.from(discountedReturns([1, 1, 1], 0.5, 8)), [2.75, 3.5, 5]);
  });
});

describe('policy terms', () => {
  it('categorical log-prob and entropy match the closed form', () => {
    const logits = [
      [1, 2, 3],
      [0.5, -1, 0],
    ];
    const actions = [2, 1];
    const { logProb, entropy } = tf.tidy(() => {
      const oneHot = tf.oneHot(tf.tensor1d(actions, 'int32'), 3).toFloat() as tf.Tensor2D;
      const t = categoricalTerms(tf.tensor2d(logits), oneHot);
      return { logProb: t.logProb.arraySync(), entropy: t.entropy.arraySync() };
    });
    logits.forEach((row, i) => {
      const z = row.reduce((s, l) => s + Math.exp(l), 0);
      const p = row.map((l) => Math.exp(l) / z);
      close(logProb[i]!, Math.log(p[actions[i]!]!), 1e-6);
      close(entropy[i]!, -p.reduce((s, q) => s + q * Math.log(q), 0), 1e-6);
    });
  });

  it('diagonal Gaussian log-prob and entropy match the closed form', () => {
    const mean = [
      [0.5, -1],
      [0, 2],
    ];
    const logStd = [0.1, -0.3];
    const action = [
      [1, 0],
      [-0.5, 2.5],
    ];
    const { logProb, entropy } = tf.tidy(() => {
      const t = gaussianTerms(tf.tensor2d(mean), tf.tensor1d(logStd), tf.tensor2d(action));
      return { logProb: t.logProb.arraySync(), entropy: t.entropy.arraySync() };
    });
    mean.forEach((mu, i) => {
      let lp = 0;
      let h = 0;
      mu.forEach((m, j) => {
        const sigma = Math.exp(logStd[j]!);
        lp += -((action[i]![j]! - m) ** 2) / (2 * sigma * sigma) - Math.log(sigma) - 0.5 * Math.log(2 * Math.PI);
        h += 0.5 * Math.log(2 * Math.PI * Math.E * sigma * sigma);
      });
      close(logProb[i]!, lp, 1e-6);
      close(entropy[i]!, h, 1e-6);
    });
  });
});

describe('FlatOptimizer', () => {
  // Two variables, two steps with different gradients, against straightforward float64 reference code.
  const theta0 = [1, -2, 0.5];
  const grads = [
    [0.5, 3, -0.2],
    [-1, 0.5, 0.1],
  ];
  const lr = 0.1;

  const runOptimizer = (config: ReturnType<typeof optimizerSection.parse>, maxGradNorm = 0) => {
    const w = tf.variable(tf.tensor1d(theta0.slice(0, 2)));
    const b = tf.variable(tf.tensor1d(theta0.slice(2)));
    const opt = new FlatOptimizer([w, b], config);
    const norms: number[] = [];
    for (const g of grads) {
      tf.tidy(() => {
        norms.push(opt.step([tf.tensor1d(g.slice(0, 2)), tf.tensor1d(g.slice(2))], lr, maxGradNorm, 0));
      });
    }
    const result = [...w.dataSync(), ...b.dataSync()];
    const pre = opt.preconditioner(w);
    const preconditioner = pre ? Array.from(pre.dataSync()) : null;
    pre?.dispose();
    opt.dispose();
    w.dispose();
    b.dispose();
    return { result, norms, preconditioner };
  };

  it('sgd: θ −= lr·g', () => {
    const { result } = runOptimizer(optimizerSection.parse({ type: 'sgd' }));
    theta0.forEach((t, i) => close(result[i]!, t - lr * (grads[0]![i]! + grads[1]![i]!), 1e-6));
  });

  it('momentum: buf = μ·buf + g, θ −= lr·buf (torch.optim.SGD)', () => {
    const mu = 0.9;
    const { result, preconditioner } = runOptimizer(optimizerSection.parse({ type: 'momentum', momentum: mu }));
    theta0.forEach((t, i) => {
      const buf1 = grads[0]![i]!;
      const buf2 = mu * buf1 + grads[1]![i]!;
      close(result[i]!, t - lr * buf1 - lr * buf2, 1e-6);
    });
    assert.equal(preconditioner, null);
  });

  it('adam: bias-corrected moments, ε outside the root (torch.optim.Adam)', () => {
    const [b1, b2, eps] = [0.9, 0.999, 1e-5];
    const { result, preconditioner } = runOptimizer(optimizerSection.parse({ type: 'adam', beta1: b1, beta2: b2, eps }));
    const vHat: number[] = [];
    theta0.forEach((t, i) => {
      let m = 0;
      let v = 0;
      let theta = t;
      grads.forEach((g, k) => {
        const step = k + 1;
        m = b1 * m + (1 - b1) * g[i]!;
        v = b2 * v + (1 - b2) * g[i]! ** 2;
        const mHat = m / (1 - b1 ** step);
        vHat[i] = v / (1 - b2 ** step);
        theta -= (lr * mHat) / (Math.sqrt(vHat[i]!) + eps);
      });
      close(result[i]!, theta, 1e-5);
    });
    preconditioner!.forEach((p, i) => close(p, 1 / (Math.sqrt(vHat[i]!) + eps), 1e-4));
  });

  it('rmsprop: v = α·v + (1 − α)·g², θ −= lr·g/(√v + ε) (torch.optim.RMSprop)', () => {
    const [alpha, eps] = [0.99, 1e-5];
    const { result, preconditioner } = runOptimizer(optimizerSection.parse({ type: 'rmsprop', decay: alpha, eps }));
    const vs: number[] = [];
    theta0.forEach((t, i) => {
      let v = 0;
      let theta = t;
      for (const g of grads) {
        v = alpha * v + (1 - alpha) * g[i]! ** 2;
        theta -= (lr * g[i]!) / (Math.sqrt(v) + eps);
      }
      vs[i] = v;
      close(result[i]!, theta, 1e-5);
    });
    preconditioner!.forEach((p, i) => close(p, 1 / (Math.sqrt(vs[i]!) + eps), 1e-4));
  });

  it('clips the global gradient norm as clip_grad_norm_ and reports the norm before clipping', () => {
    const maxNorm = 0.5;
    const { result, norms } = runOptimizer(optimizerSection.parse({ type: 'sgd' }), maxNorm);
    grads.forEach((g, k) => close(norms[k]!, Math.hypot(...g), 1e-6));
    theta0.forEach((t, i) => {
      let theta = t;
      for (const g of grads) {
        const norm = Math.hypot(...g);
        theta -= lr * g[i]! * Math.min(1, maxNorm / (norm + 1e-6));
      }
      close(result[i]!, theta, 1e-6);
    });
  });

  it('has no preconditioner before its first step, and throws DivergedError on a non-finite gradient', () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const opt = new FlatOptimizer([w], optimizerSection.parse({ type: 'adam' }));
    assert.equal(opt.preconditioner(w), null);
    assert.throws(() => tf.tidy(() => opt.step([tf.tensor1d([NaN, 1])], 0.1, 0, 7)), (e: unknown) => e instanceof DivergedError && e.update === 7);
    assert.deepEqual(Array.from(w.dataSync()), [1, 2]);
    opt.dispose();
    w.dispose();
  });
});

describe('normalizeAdvantages and explainedVariance', () => {
  it('normalises with the unbiased std', () => {
    const out = normalizeAdvantages(Float32Array.from([1, 2, 3, 4]));
    const std = Math.sqrt(5 / 3);
    [-1.5, -0.5, 0.5, 1.5].forEach((d, i) => close(out[i]!, d / (std + 1e-8), 1e-6));
  });
  it('explained variance: 1 for a perfect fit, 0 for the mean, 0 when the target is constant', () => {
    close(explainedVariance([1, 2, 3], [1, 2, 3]), 1);
    close(explainedVariance([2, 2, 2], [1, 2, 3]), 0);
    assert.equal(explainedVariance([0, 1], [5, 5]), 0);
  });
  it('assertFinite throws DivergedError for NaN and Inf', () => {
    assert.throws(() => assertFinite(NaN, 3, 'loss'), DivergedError);
    assert.throws(() => assertFinite(-Infinity, 3, 'loss'), DivergedError);
    assertFinite(1, 3, 'loss');
  });
});

describe('ppoFusedLoss', () => {
  const build = (space: Space, shared: boolean) => {
    const rng = new Rng('fused');
    const obsSize = 3;
    const n = 40;
    const net = new ActorCritic(obsSize, space, networkSection.parse({ hidden: [8, 8], shared, policyGain: 1 }), rng.split('init'), { value: true });
    const actionSize = space instanceof Box ? space.size : 1;
    const arrays: SampleArrays = {
      obs: Float32Array.from({ length: n * obsSize }, () => rng.normal()),
      actions: Float32Array.from({ length: n * actionSize }, () => (space instanceof Discrete ? rng.int(space.n) : rng.normal())),
      advantages: Float32Array.from({ length: n }, () => rng.normal()),
      returns: Float32Array.from({ length: n }, () => rng.normal()),
      oldLogProbs: new Float32Array(n),
      oldValues: new Float32Array(n),
    };
    // Old log-probs and values far enough from the current ones that both clipped branches are hit.
    tf.tidy(() => {
      const out = net.forward(tf.tensor2d(arrays.obs, [n, obsSize]));
      const data = toTensors(net, arrays);
      const terms = space instanceof Discrete ? categoricalTerms(out.policy!, data.actions) : gaussianTerms(out.policy!, out.logStd!, data.actions);
      const logProb = terms.logProb.dataSync();
      const values = out.value!.dataSync();
      for (let i = 0; i < n; i++) {
        arrays.oldLogProbs[i] = logProb[i]! + 0.6 * rng.normal();
        arrays.oldValues[i] = values[i]! + 0.5 * rng.normal();
      }
    });
    return { net, arrays };
  };

  for (const [label, space, shared] of [
    ['categorical, separate', new Discrete(3), false],
    ['categorical, shared', new Discrete(2), true],
    ['Gaussian, separate', new Box(-1, 1, [2]), false],
  ] as const) {
    for (const clipVloss of [true, false]) {
      it(`has the loss and gradients of the composite PPO loss (${label}, clipVloss ${clipVloss})`, () => {
        const { net, arrays } = build(space, shared);
        const config = ppoSection.parse({ algo: 'ppo', clipVloss, entCoef: 0.05, vfCoef: 0.7, clipCoef: 0.2 });
        const data = toTensors(net, arrays);
        tf.tidy(() => {
          let readout: { total: number; policyLoss: number; valueLoss: number; entropy: number; logRatio: Float32Array } | null = null;
          const fused = lossAndGrads(() => ppoFusedLoss(net, net.forward(data.obs), data, config, (r) => (readout = r)), net.variables);
          const reference = ppoLoss(net, data, config);
          const auto = lossAndGrads(() => ppoLoss(net, data, config).total, net.variables);
          close(fused.loss.dataSync()[0]!, auto.loss.dataSync()[0]!, 1e-5, 'loss');
          close(readout!.total, auto.loss.dataSync()[0]!, 1e-5, 'readout total');
          close(readout!.policyLoss, reference.policy.dataSync()[0]!, 1e-5, 'policy');
          close(readout!.valueLoss, reference.value.dataSync()[0]!, 1e-5, 'value');
          close(readout!.entropy, reference.entropy.dataSync()[0]!, 1e-5, 'entropy');
          const logRatio = reference.logRatio.dataSync();
          const clippedCount = Array.from(logRatio).filter((l) => Math.abs(Math.exp(l) - 1) > 0.2).length;
          assert.ok(clippedCount > 5 && clippedCount < 35, `test batch should mix clipped and unclipped samples (${clippedCount})`);
          net.variables.forEach((v, k) => {
            const a = fused.grads[k]!.dataSync();
            const b = auto.grads[k]!.dataSync();
            const scale = Math.max(1e-3, ...Array.from(b, Math.abs));
            a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < 1e-4 * scale, `${v.name}[${i}]: ${x} vs ${b[i]}`));
          });
        });
        tf.dispose(Object.values(data).filter((t) => t instanceof tf.Tensor));
        net.dispose();
      });
    }
  }
});
