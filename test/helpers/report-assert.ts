/** Checks shared by the report tests: a report's plots are written, inlined and linked, and it loads nothing remote. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ReportResult } from '../../src/report/report.js';

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-report-'));
}

/** Every plot written, non-empty, inlined in report.html and linked from it; returns the page. */
export function assertReport(result: ReportResult, dir: string, expected: readonly string[]): string {
  assert.equal(result.html, path.join(path.resolve(dir), 'report.html'));
  const html = fs.readFileSync(result.html, 'utf8');
  assert.deepEqual(result.plots.map((p) => path.basename(p, '.svg')).sort(), [...expected].sort());
  for (const plot of result.plots) {
    assert.equal(path.dirname(plot), path.join(path.resolve(dir), 'plots'));
    const svg = fs.readFileSync(plot, 'utf8');
    assert.ok(svg.startsWith('<svg') && svg.length > 1000, `${plot} is an SVG`);
    assert.ok(html.includes(`href="plots/${path.basename(plot)}"`), `report links ${path.basename(plot)}`);
    assert.ok(html.includes(svg.trim()), `report inlines ${path.basename(plot)}`);
  }
  assert.equal(html.match(/<svg /g)?.length ?? 0, result.plots.length, 'one inline <svg> per plot');
  assert.ok(!/(src|href)="(https?:)?\/\//.test(html), 'no network resources');
  assert.ok(!/<script/.test(html), 'no scripts');
  return html;
}
