/** Tests that switch the tfjs backend: put the one active before the suite back after it. */
import { after, before } from 'node:test';
import * as tf from '@tensorflow/tfjs';

export function restoreBackendAfterSuite(): void {
  let previous = '';
  before(() => {
    previous = tf.getBackend();
  });
  after(async () => {
    if (previous) await tf.setBackend(previous);
  });
}
