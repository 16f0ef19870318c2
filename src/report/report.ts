/**
 * `gradnoise report DIR`: redraw the plots and `report.html` of an output folder from its CSV (and JSON) files alone.
 *
 * The folder's kind (load.ts) picks the sections: a run's (run-section.ts), a sweep's (sweep-section.ts), a
 * critical-batch experiment's (critical-section.ts) or a reproduction's (reproduce-section.ts: its overview, the
 * findings of every sweep, B_crit vs B_simple over every critical-batch part, then every part's own sections). The
 * figures are computed by src/analysis/findings*.ts and drawn by plots/; html.ts makes the page.
 *
 * Plots go to `DIR/plots/*.svg`; `DIR/report.html` inlines every one of them and links the SVG files. Findings are
 * recomputed from noise.csv rather than copied from summary.json, so a killed run or a half-finished sweep gets a
 * report too, by the same rules as sweep.csv's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidValueError } from '../core/errors.js';
import { criticalSection } from './critical-section.js';
import { ReportPage, writeFileAtomic } from './html.js';
import { detectFolder, loadCritical, loadReproduce, loadRun, loadSweep, type FolderKind } from './load.js';
import { reproduceSections } from './reproduce-section.js';
import { runSection } from './run-section.js';
import { sweepSection } from './sweep-section.js';

export { detectFolder, type FolderKind } from './load.js';

export interface ReportResult {
  kind: FolderKind;
  /** Absolute paths of the SVG files written, in the order the report shows them. */
  plots: string[];
  /** Absolute path of report.html. */
  html: string;
}

const KIND_TEXT: Record<FolderKind, string> = {
  run: 'One training run.',
  sweep: 'A sweep: runs over difficulty levels and seeds.',
  'critical-batch': 'Critical batch size measurement: runs per batch size and seed.',
  reproduce: 'Reproduction of the paper’s headline figures.',
};

/** Draw every plot that the folder's data allow, write `plots/*.svg` and `report.html`, and say where they are. */
export async function writeReport(dir: string): Promise<ReportResult> {
  const kind = detectFolder(dir);
  if (kind === null) {
    throw new InvalidValueError(
      'DIR',
      dir,
      fs.existsSync(dir)
        ? 'not a gradnoise output folder: expected a run (config.json with metrics.csv or noise.csv), a sweep (sweep.json or sweep.csv), a critical-batch folder (critical-batch.json) or a reproduce folder holding those'
        : 'no such folder',
    );
  }
  const root = path.resolve(dir);
  const page = new ReportPage(root);
  if (kind === 'run') page.add(await runSection(page, loadRun(root), ''));
  else if (kind === 'sweep') page.add(await sweepSection(page, loadSweep(root), ''));
  else if (kind === 'critical-batch') page.add(await criticalSection(page, loadCritical(root), '', true));
  else for (const s of await reproduceSections(page, loadReproduce(root))) page.add(s);
  const html = path.join(root, 'report.html');
  writeFileAtomic(html, page.html(KIND_TEXT[kind]));
  removeStalePlots(root, page.plots);
  return { kind, plots: page.plots, html };
}

/** SVGs in plots/ that this drawing did not write are from an earlier one whose data are gone. */
function removeStalePlots(root: string, written: readonly string[]): void {
  const dir = path.join(root, 'plots');
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    if (name.endsWith('.svg') && !written.includes(file)) fs.rmSync(file);
  }
}
