/** The flat-vector optimizers (agents/optimizers.ts) against float64 reference code of PyTorch's update rules. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { assertFinite, defaultPlacement, FlatOptimizer, type OptimizerPlacement } from '../../agents/optimizers.js';
import { optimizerSection } from '../../src/config/schema.js';
import { DivergedError } from '../../src/core/errors.js';
import { close } from '../helpers/close.js';

before(async () => {
  await tf.setBackend('cpu');
});

for (const placement of ['host', 'device'] as OptimizerPlacement[]) describe(`FlatOptimizer, ${placement} placement`, () => {
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
    const opt = new FlatOptimizer([w, b], config, placement);
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
    const opt = new FlatOptimizer([w], optimizerSection.parse({ type: 'adam' }), placement);
    assert.equal(opt.preconditioner(w), null);
    assert.throws(() => tf.tidy(() => opt.step([tf.tensor1d([NaN, 1])], 0.1, 0, 7)), (e: unknown) => e instanceof DivergedError && e.update === 7);
    assert.deepEqual(Array.from(w.dataSync()), [1, 2]);
    opt.dispose();
    w.dispose();
  });
});

describe('FlatOptimizer placements', () => {
  it('host and device take the same steps (every type, clipped, 30 steps, a matrix, a vector, a null gradient)', () => {
    assert.equal(defaultPlacement(), 'host');
    for (const type of ['sgd', 'momentum', 'adam', 'rmsprop'] as const) {
      const results = (['host', 'device'] as OptimizerPlacement[]).map((placement) => {
        const w = tf.variable(tf.tensor2d([0.3, -1.2, 2, 0.1, 0.7, -0.4], [2, 3]));
        const b = tf.variable(tf.tensor1d([0.5, -0.5]));
        const opt = new FlatOptimizer([w, b], optimizerSection.parse({ type, momentum: 0.9 }), placement);
        const norms: number[] = [];
        for (let k = 0; k < 30; k++) {
          tf.tidy(() => {
            const gw = tf.mul(tf.sin(tf.add(w, k)), 3);
            const gb = k % 7 === 3 ? null : tf.cos(tf.mul(b, k + 1));
            norms.push(opt.step([gw, gb], 0.01, 1, k + 1));
          });
        }
        const pre = opt.preconditioner(w);
        const out = { theta: [...w.dataSync(), ...b.dataSync()], norms, pre: pre ? Array.from(pre.dataSync()) : null, shape: w.shape };
        pre?.dispose();
        opt.dispose();
        tf.dispose([w, b]);
        return out;
      });
      const [host, device] = results as [(typeof results)[0], (typeof results)[0]];
      assert.deepEqual(host.shape, [2, 3]);
      host.theta.forEach((x, i) => close(x, device.theta[i]!, 1e-5));
      host.norms.forEach((x, i) => close(x, device.norms[i]!, 1e-5));
      assert.equal(host.pre === null, device.pre === null, type);
      host.pre?.forEach((x, i) => close(x, device.pre![i]!, 1e-4));
    }
  });

  it('host placement: resync picks up a variable written from outside, and no tensor is left behind', () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const opt = new FlatOptimizer([w], optimizerSection.parse({ type: 'sgd' }), 'host');
    const before = tf.memory().numTensors;
    for (let k = 0; k < 5; k++) tf.tidy(() => opt.step([tf.tensor1d([1, 1])], 0.5, 0, k + 1));
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(Array.from(w.dataSync()), [-1.5, -0.5]);
    w.assign(tf.tensor1d([10, 20]));
    opt.resync();
    tf.tidy(() => opt.step([tf.tensor1d([2, 4])], 0.5, 0, 6));
    assert.deepEqual(Array.from(w.dataSync()), [9, 18]);
    opt.dispose();
    w.dispose();
  });
});

describe('assertFinite', () => {
  it('throws DivergedError for NaN and Inf, and passes finite values', () => {
    assert.throws(() => assertFinite(NaN, 3, 'loss'), DivergedError);
    assert.throws(() => assertFinite(-Infinity, 3, 'loss'), DivergedError);
    assertFinite(1, 3, 'loss');
  });
});

