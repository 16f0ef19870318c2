/** Rendering shared by every figure: deterministic SVG, ids kept apart between figures, empty data drawn. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bCritVsBSimple, paretoFronts } from '../../../src/report/plots/critical.js';
import { noiseVsDifficulty } from '../../../src/report/plots/difficulty.js';
import { renumberIds } from '../../../src/report/plots/render.js';
import { noiseOverTraining, type TrainingCurves } from '../../../src/report/plots/training.js';
import { assertSvg, curves } from '../../helpers/svg.js';

describe('plots: rendering', () => {
  it('is deterministic and keeps ids apart between figures', async () => {
    const a = await noiseOverTraining([curves('r', 'r')], { id: 'same' });
    const b = await noiseOverTraining([curves('r', 'r')], { id: 'same' });
    assert.equal(a, b);
    const c = await noiseOverTraining([curves('r', 'r')], { id: 'other' });
    const ids = (svg: string) => [...svg.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(ids(a).length > 0 && ids(a).every((id) => id!.startsWith('same-')));
    assert.ok(ids(c).every((id) => id!.startsWith('other-')));
    assert.equal(renumberIds('<g id="clip7"><path clip-path="url(#clip7)"/></g>', 'p'), '<g id="p-1"><path clip-path="url(#p-1)"/></g>');
  });

  it('draws empty and unresolved data without failing', async () => {
    const unresolved: TrainingCurves = { label: 'r', noise: [{ envSteps: 512, component: 'policy', bSimple: NaN, lo: 10, hi: Infinity }], returns: [] };
    assertSvg(await noiseOverTraining([unresolved]));
    assertSvg(await noiseVsDifficulty([]));
    assertSvg(await paretoFronts([{ label: 'return ≥ 1', points: [] }]));
    assertSvg(await bCritVsBSimple([]));
  });
});
