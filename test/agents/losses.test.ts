/** The shared losses (agents/losses.ts) against their closed forms on small hand-made batches. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { policyGradientLoss, totalLoss, valueLoss } from '../../agents/losses.js';
import { close } from '../helpers/close.js';

before(async () => {
  await tf.setBackend('cpu');
});

const scalar = (f: () => tf.Scalar) => tf.tidy(() => f().dataSync()[0]!);

describe('policyGradientLoss', () => {
  it('is −mean(A·log π)', () => {
    const logProb = [-0.5, -1.2, -2];
    const adv = [1, -2, 0.5];
    const expected = -(1 * -0.5 + -2 * -1.2 + 0.5 * -2) / 3;
    close(scalar(() => policyGradientLoss(tf.tensor1d(logProb), tf.tensor1d(adv))), expected, 1e-6);
  });
});

describe('valueLoss', () => {
  const values = [1, 2, 0.2];
  const returns = [0.5, 3, 0];
  const oldValues = [0.4, 2.5, 1];

  it('is 0.5·mean((V − R)²) without clipping', () => {
    const expected = (0.5 * (0.25 + 1 + 0.04)) / 3;
    close(scalar(() => valueLoss(tf.tensor1d(values), tf.tensor1d(returns))), expected, 1e-6);
  });

  it('with clipping takes the larger of the unclipped and the clipped error per sample', () => {
    const coef = 0.2;
    let sum = 0;
    values.forEach((v, i) => {
      const clipped = oldValues[i]! + Math.min(coef, Math.max(-coef, v - oldValues[i]!));
      sum += Math.max((v - returns[i]!) ** 2, (clipped - returns[i]!) ** 2);
    });
    const loss = scalar(() => valueLoss(tf.tensor1d(values), tf.tensor1d(returns), { oldValues: tf.tensor1d(oldValues), coef }));
    close(loss, (0.5 * sum) / 3, 1e-6);
    // On this batch the clipped branch is active for sample 2 (old 1 → clipped 0.8, error 0.8 > 0.2), so it differs.
    assert.ok(loss > scalar(() => valueLoss(tf.tensor1d(values), tf.tensor1d(returns))));
  });
});

describe('totalLoss', () => {
  const coefs = { entCoef: 0.01, vfCoef: 0.5 };
  it('is policy − entCoef·entropy + vfCoef·value, and drops the value term without a value part', () => {
    const withValue = scalar(() => totalLoss({ policy: tf.scalar(1.5), entropy: tf.scalar(0.7), value: tf.scalar(4) }, coefs));
    close(withValue, 1.5 - 0.01 * 0.7 + 0.5 * 4, 1e-6);
    const policyOnly = scalar(() => totalLoss({ policy: tf.scalar(1.5), entropy: tf.scalar(0.7) }, coefs));
    close(policyOnly, 1.5 - 0.01 * 0.7, 1e-6);
  });
});
