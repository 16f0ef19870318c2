/**
 * The filter gradient the naive conv baseline (naive-ppo.ts, torso "conv") needs and tfjs-wasm 4.x does not have:
 * it registers no `Conv2DBackpropFilter` kernel, so `tf.layers.conv2d` trains on wasm only with one. This is the
 * direct loop a port would add to run at all: dW[ky, kx, c, f] = Σ_{n, oy, ox} x[n, oy·s + ky, ox·s + kx, c] ·
 * dy[n, oy, ox, f], NHWC, 'valid' padding only (the baseline's). Registered only where the backend lacks the kernel;
 * the gradnoise conv torso never calls it (it has its own gradient, agents/conv.ts).
 */
import * as tf from '@tensorflow/tfjs';

const KERNEL = 'Conv2DBackpropFilter';

function filterGrad({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { strides, pad, dataFormat, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const [sy, sx] = typeof strides === 'number' ? [strides, strides] : strides;
  if (pad !== 'valid' || dataFormat !== 'NHWC') throw new Error(`naive conv baseline: ${KERNEL} supports 'valid' NHWC only, got ${String(pad)} ${dataFormat}`);
  const x = inputs.x!;
  const dy = inputs.dy!;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [, oh, ow, f] = dy.shape as [number, number, number, number];
  const [kh, kw] = filterShape;
  const xv = backend.readSync(x.dataId) as Float32Array;
  const dv = backend.readSync(dy.dataId) as Float32Array;
  const out = new Float32Array(kh * kw * c * f);
  for (let s = 0; s < n; s++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const d0 = ((s * oh + oy) * ow + ox) * f;
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            const x0 = ((s * h + oy * sy + ky) * w + ox * sx + kx) * c;
            const o0 = (ky * kw + kx) * c * f;
            for (let ch = 0; ch < c; ch++) {
              const v = xv[x0 + ch]!;
              const oc = o0 + ch * f;
              for (let k = 0; k < f; k++) out[oc + k]! += v * dv[d0 + k]!;
            }
          }
        }
      }
    }
  }
  return { dataId: backend.write(out, [...filterShape], 'float32'), shape: [...filterShape], dtype: 'float32' };
}

/** Register the loop above for the active backend if it has no `Conv2DBackpropFilter` of its own. */
export function ensureConvFilterGrad(): void {
  const backendName = tf.getBackend();
  if (tf.getKernel(KERNEL, backendName) === undefined) tf.registerKernel({ kernelName: KERNEL, backendName, kernelFunc: filterGrad as unknown as tf.KernelFunc });
}
