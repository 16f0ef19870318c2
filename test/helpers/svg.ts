/** Reading the report's SVG figures in tests: well-formedness, axes as Vega describes them, mark groups; sample curves. */
import assert from 'node:assert/strict';
import { XMLValidator } from 'fast-xml-parser';
import type { TrainingCurves } from '../../src/report/plots/training.js';

/** B_simple growing e-fold ×3 over the run, value 8× policy; a few unresolved (NaN) and unbounded (hi = ∞) points. */
export function curves(label: string, runId: string, scale = 1, updates = 50): TrainingCurves {
  const noise: TrainingCurves['noise'][number][] = [];
  const returns: TrainingCurves['returns'][number][] = [];
  for (let u = 1; u <= updates; u++) {
    const envSteps = u * 512;
    for (const [component, factor] of [['policy', 1], ['value', 8], ['total', 3]] as const) {
      const b = 100 * scale * factor * Math.exp((3 * u) / updates);
      noise.push({ envSteps, component, bSimple: u % 13 === 5 ? NaN : b, lo: b / 1.5, hi: u === updates ? Infinity : b * 1.7 });
    }
    returns.push({ envSteps, returnMean: u < 3 ? NaN : 20 + 10 * u });
  }
  return { label, runId, noise, returns };
}

export function assertSvg(svg: string): void {
  assert.ok(svg.startsWith('<svg'), 'starts with <svg');
  const valid = XMLValidator.validate(svg);
  assert.equal(valid, true, `well-formed XML: ${JSON.stringify(valid)}`);
  const width = Number(/^<svg[^>]* width="([\d.]+)"/.exec(svg)?.[1]);
  const height = Number(/^<svg[^>]* height="([\d.]+)"/.exec(svg)?.[1]);
  assert.ok(width > 100 && width < 2000 && height > 100 && height < 2000, `reasonable size ${width}×${height}`);
  assert.ok(!/<script|@font-face|href="https?:/.test(svg), 'no scripts, embedded fonts or remote references');
}

/** Each axis as Vega describes it: `X-axis titled 'T' for a log scale ...`. */
export function axes(svg: string): { axis: 'X' | 'Y'; title: string; scale: string }[] {
  return [...svg.matchAll(/aria-label="([XY])-axis titled '([^']*)' for a (\w+) scale/g)].map((m) => ({
    axis: m[1] as 'X' | 'Y',
    title: m[2]!.replace(/&amp;/g, '&'),
    scale: m[3]!,
  }));
}

export function assertAxis(svg: string, axis: 'X' | 'Y', title: string, scale: string): void {
  const found = axes(svg);
  assert.ok(
    found.some((a) => a.axis === axis && a.title === title && a.scale === scale),
    `${axis} axis '${title}' on a ${scale} scale; axes: ${JSON.stringify(found)}`,
  );
}

/** Mark groups per mark type and layer name: Vega draws each series of a line mark in a group of its own. */
export function markGroups(svg: string, type: string, name?: RegExp): string[] {
  return [...svg.matchAll(new RegExp(`<g class="mark-${type} role-mark ([^"]+)"[^>]*>(.*?)</g>`, 'g'))]
    .filter((m) => !name || name.test(m[1]!))
    .map((m) => m[2]!);
}

/** Paths drawn inside the mark groups (one per point of a symbol mark). */
export function countPaths(groups: readonly string[]): number {
  return groups.reduce((n, g) => n + (g.match(/<path/g)?.length ?? 0), 0);
}
