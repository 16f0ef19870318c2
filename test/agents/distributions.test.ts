/** The policy distributions' tfjs terms (agents/distributions.ts) against their closed forms. */
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { categoricalTerms, gaussianTerms } from '../../agents/distributions.js';
import { close } from '../helpers/close.js';

before(async () => {
  await tf.setBackend('cpu');
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
