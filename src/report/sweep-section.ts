/**
 * A sweep's section, per env family: B_simple over training at the lowest level (level 0, the standard task; one line
 * per seed, return below); B_simple vs difficulty level, the run average and at matched progress, pooled over seeds;
 * return curves per level; policy B_simple at every level (secondary); the findings in words and as a table (growth
 * over training at the lowest level, highest / lowest level ratios, with intervals and verdicts); metadata and runs.
 */
import path from 'node:path';
import { componentFindings, findingsByFamily, FINDINGS_CONFIDENCE, matchedFindings, MIN_BOOTSTRAP_SEEDS, runTargets, trend, trendSign, type FamilyFindings, type RunData } from '../analysis/findings.js';
import { formatFigure, formatSetting, formatValue, verdict } from '../analysis/findings-format.js';
import { NOISE_COMPONENTS } from '../core/components.js';
import { details, esc, note, pct, section, slug, table, type ReportPage, type Section } from './html.js';
import { runsByFamily, type SweepInfo } from './load.js';
import { backendText, finalReturn, groupMetadata, lastMetric, noisePoints, returnPoints, runStatus, seedText } from './run-section.js';
import { MEASURE_ORDER, noiseVsDifficulty, type DifficultyGroup, type DifficultyPoint } from './plots/difficulty.js';
import { noiseOverTraining, returnCurvesPerLevel, type LevelCurves } from './plots/training.js';

/** A family's findings and the sweep they come from (a reproduce folder shows several sweeps' findings together). */
export interface SweepFindings {
  readonly findings: FamilyFindings;
  readonly sweep: SweepInfo;
}

const findingsCache = new WeakMap<SweepInfo, FamilyFindings[]>();

/** Findings per family and component, computed once per sweep (their bootstraps take a while). */
export function sweepFindings(sweep: SweepInfo): FamilyFindings[] {
  let findings = findingsCache.get(sweep);
  if (!findings) findingsCache.set(sweep, (findings = findingsByFamily(runsByFamily(sweep), sweep.fraction)));
  return findings;
}

const bySeed = (a: RunData, b: RunData) => (a.seed ?? 0) - (b.seed ?? 0);

export async function sweepSection(page: ReportPage, sweep: SweepInfo, prefix: string, title = `Sweep ${path.basename(sweep.dir)}`): Promise<Section> {
  const findings = sweepFindings(sweep);
  const entries = findings.map((f) => ({ findings: f, sweep }));
  const figures: string[] = [];
  const withNoise = sweep.runs.filter((r) => (r.folder.noise?.rows.length ?? 0) > 0);
  const families = runsByFamily(sweep);

  // Figure 1: B_simple over training at the lowest level (level 0, the standard task), one line per seed, return below.
  for (const [family, members] of families) {
    const runs = members.filter((r) => withNoise.includes(r));
    if (runs.length === 0) continue;
    const low = Math.min(...runs.map((r) => r.level));
    const atLow = runs.filter((r) => r.level === low).sort(bySeed);
    const name = `${prefix}noise-over-training-${slug(family)}`;
    const svg = await noiseOverTraining(
      atLow.map((r) => ({ label: `seed ${seedText(r)}`, runId: r.id, noise: noisePoints(r), returns: returnPoints(r) })),
      { id: name, legendTitle: 'seed', title: `Gradient noise scale over training at level ${low}: ${family}` },
    );
    const growth = findings.filter((f) => f.family === family && f.lowLevel === low).map((f) => `${f.component} ${formatFigure(f.growth, '×')} (${verdict(f.growth)})`);
    figures.push(
      page.figure(
        name,
        svg,
        `B_simple per component (log scale; band: ${pct(FINDINGS_CONFIDENCE)} interval of the monitor's smoothed figure) and mean return vs env steps at level ${low}${low === 0 ? ' (the standard task)' : ' (the lowest level in this sweep)'}, one line per seed.` +
          (growth.length > 0 ? ` Growth over training (last / first quarter, pooled over seeds): ${growth.join('; ')}.` : ''),
      ),
    );
  }

  // Figure 2: B_simple vs difficulty level, run average and at matched progress, pooled over seeds.
  const difficulty: DifficultyPoint[] = [];
  const groups: DifficultyGroup[] = [];
  for (const { family, component, levels } of findings) {
    for (const level of levels) {
      for (const r of level.perRun) {
        difficulty.push({ family, level: level.level, component, seed: seedText(r.run), bSimple: r.average.value, measure: MEASURE_ORDER[0] });
        difficulty.push({ family, level: level.level, component, seed: seedText(r.run), bSimple: r.matched.figure.value, measure: MEASURE_ORDER[1] });
      }
      groups.push({ family, level: level.level, component, measure: MEASURE_ORDER[0], value: level.average.value, lo: level.average.lo, hi: level.average.hi });
      groups.push({ family, level: level.level, component, measure: MEASURE_ORDER[1], value: level.matched.value, lo: level.matched.lo, hi: level.matched.hi });
    }
  }
  if (groups.some((g) => g.value > 0 || g.lo! > 0)) {
    const name = `${prefix}noise-vs-difficulty`;
    const svg = await noiseVsDifficulty(difficulty, { id: name }, groups);
    figures.push(
      page.figure(
        name,
        svg,
        `B_simple per difficulty level (log scale), per component (policy first; value and total are dominated by the value regression). ` +
          `Side by side at each level: circles, the run average (ratio of means over all of a run's measurements); diamonds, B_simple at matched progress: ${sweep.matchedRule}. ` +
          `Large points: per-seed mean tr(Σ) and mean |G|² pooled over seeds, with a ${pct(FINDINGS_CONFIDENCE)} interval (bootstrap over seeds from ${MIN_BOOTSTRAP_SEEDS} seeds, else the hull of the runs' own intervals); small points: seeds (unresolved seeds are not drawn); ▲: unresolved, at its lower bound. ` +
          'Completed runs only (all runs while none has completed).',
      ),
    );
  }

  // Figure 3: learning curves per level.
  const levelCurves: LevelCurves[] = sweep.runs
    .filter((r) => (r.folder.metrics?.rows.length ?? 0) > 0)
    .sort((a, b) => a.level - b.level)
    .map((r) => ({ family: sweep.family.get(r.id)!, level: r.level, runId: r.id, returns: returnPoints(r) }));
  if (levelCurves.length > 0) {
    const name = `${prefix}return-curves`;
    const svg = await returnCurvesPerLevel(levelCurves, { id: name });
    figures.push(page.figure(name, svg, 'Mean return vs env steps per env family, colour = difficulty level.'));
  }

  // Secondary: policy B_simple over training at every level.
  for (const [family, members] of families) {
    const runs = members.filter((r) => withNoise.includes(r)).sort((a, b) => a.level - b.level || bySeed(a, b));
    if (new Set(runs.map((r) => r.level)).size < 2) continue;
    const policy = (r: RunData) => noisePoints(r).filter((p) => p.component === 'policy');
    if (!runs.some((r) => policy(r).length > 0)) continue;
    const name = `${prefix}noise-over-training-levels-${slug(family)}`;
    const svg = await noiseOverTraining(
      runs.map((r) => ({ label: `level ${r.level}`, runId: r.id, noise: policy(r), returns: [] })),
      { id: name, ordered: true, legendTitle: 'difficulty', title: `Policy B_simple over training at every level: ${family}` },
    );
    figures.push(page.figure(name, svg, 'Secondary view: policy-gradient B_simple (log scale) vs env steps, one line per run, colour = difficulty level.'));
  }

  const found = [findingsInWords(entries), familyFindingsTable(entries, 'Findings: gradient noise scale by env family (B_simple in samples = env steps)')];
  if (sweep.runs.length === 0) found.unshift(note('No run folders yet.'));
  const sweepDetails = [groupMetadata(sweep.manifest, sweep.runs), sweepRunsTable(sweep)];
  if (sweep.rules) sweepDetails.push(details('Rules (sweep-summary.json)', JSON.stringify(sweep.rules, null, 2)));
  if (sweep.manifest) sweepDetails.push(details('Sweep definition (sweep.json)', JSON.stringify(sweep.manifest, null, 2)));
  return section(title, { findings: found, figures, details: sweepDetails }, ['findings', 'figures', 'details']);
}

/** The findings in sentences, one per family (policy gradient where measured, else the first component). */
export function findingsInWords(entries: readonly SweepFindings[]): string {
  const byFamily = new Map<string, FamilyFindings>();
  for (const { findings: f, sweep } of entries) {
    const key = `${path.basename(sweep.dir)}\u0000${f.family}`;
    const current = byFamily.get(key);
    if (!current || (f.component === 'policy' && current.component !== 'policy')) byFamily.set(key, f);
  }
  const items = [...byFamily.values()].map((f) => {
    const growth = `over training (level ${f.lowLevel}, last / first quarter) ${formatFigure(f.growth, '×')}: ${verdict(f.growth)}${trendSign(trend(f.growth)) !== 0 ? '' : ' (no growth established)'}`;
    let harder = 'one difficulty level only';
    if (f.lowLevel !== f.highLevel) {
      const raised = [f.ratio, f.ratioMatched].some((r) => trendSign(trend(r)) === 1);
      harder =
        `level ${f.highLevel} / level ${f.lowLevel}, run average ${formatFigure(f.ratio, '×')}: ${verdict(f.ratio)}; at matched progress ${formatFigure(f.ratioMatched, '×')}: ${verdict(f.ratioMatched)}` +
        (raised ? '' : ` (this ladder does not raise the noise scale)`);
    }
    return `<li><b>${esc(f.family)}</b>, ${esc(f.component)} B_simple ${esc(growth)}; ${esc(harder)}.</li>`;
  });
  return items.length > 0 ? `<ul class="findings">${items.join('')}</ul>` : '';
}

/** The difficulty verdict from the run average and the matched-progress ratio: one phrase when they agree. */
function difficultyVerdict(f: FamilyFindings): string {
  if (f.lowLevel === f.highLevel) return 'one level only';
  const average = verdict(f.ratio);
  const matched = verdict(f.ratioMatched);
  return average === matched ? average : `run average: ${average}; matched progress: ${matched}`;
}

function reachedNote(f: FamilyFindings): string {
  const [lowHit, lowRuns] = f.reached.low;
  const [highHit, highRuns] = f.reached.high;
  if (lowHit === lowRuns && highHit === highRuns) return '';
  return ` (target reached by ${lowHit}/${lowRuns} runs at level ${f.lowLevel}, ${highHit}/${highRuns} at level ${f.highLevel})`;
}

export function familyFindingsTable(entries: readonly SweepFindings[], caption: string): string {
  if (entries.length === 0) return note('No noise measurements in this sweep yet.');
  const rules = [...new Set(entries.map((e) => e.sweep.matchedRule))];
  const rows = entries.map(({ findings: f }) => {
    const two = f.lowLevel !== f.highLevel;
    return [
      f.family,
      f.component,
      f.completed ? String(f.runs) : `${f.runs} (none completed)`,
      two ? `${f.lowLevel} → ${f.highLevel}` : `${f.lowLevel}`,
      formatFigure(f.low),
      formatFigure(f.growth, '×'),
      verdict(f.growth),
      two ? formatFigure(f.ratio, '×') : '–',
      two ? `${formatFigure(f.ratioMatched, '×')}${reachedNote(f)}` : '–',
      difficultyVerdict(f),
    ];
  });
  return (
    table(
      caption,
      [
        'env family',
        'component',
        'runs',
        'levels (low → high)',
        'B_simple, low level (run average)',
        'growth over training at the low level (last / first quarter)',
        'over training',
        'high / low level, run average',
        'high / low level, matched progress',
        'harder levels',
      ],
      rows,
    ) +
    note(
      `Completed runs only (while none has completed, every run). Growth: B_simple over the last quarter of a run (by env steps) divided by that over the first, at the lowest level (level 0, the standard task). Run average: ratio of means over the whole run. Matched progress: ${esc(rules.join(' / '))}. Across seeds: per-seed mean tr(Σ) and |G|² pooled over seeds (as in sweep.csv); interval: ${pct(FINDINGS_CONFIDENCE)} percentile bootstrap over seeds with ${MIN_BOOTSTRAP_SEEDS} seeds or more (rough with 3), else the hull of the runs' own Fieller intervals (combined conservatively for ratios). “unresolved (≥ x)”: the pooled |G|² is not significantly &gt; 0, so only a lower bound is known. Verdicts: “rises” / “falls” when the whole interval lies above / below 1. The paper's findings: growth by an order of magnitude or more; harder tasks noisier (ratio &gt; 1).`,
    )
  );
}

function sweepRunsTable(sweep: SweepInfo): string {
  if (sweep.runs.length === 0) return '';
  const targets = runTargets(sweep.runs, (r) => sweep.family.get(r.id)!, sweep.fraction);
  const rows = sweep.runs.map((r) => {
    const target = targets.get(r.id) ?? NaN;
    const policy = matchedFindings(r, 'policy', target);
    return [
      r.id,
      sweep.family.get(r.id)!,
      String(r.level),
      seedText(r),
      runStatus(r),
      formatSetting(lastMetric(r, 'env_steps') ?? ''),
      formatValue(finalReturn(r)),
      ...NOISE_COMPONENTS.map((c) => formatFigure(componentFindings(r, c).average)),
      Number.isFinite(target)
        ? policy.reached
          ? `${formatFigure(policy.figure)} at ${formatSetting(policy.reached.envSteps)} steps`
          : `target ${formatValue(target)} not reached`
        : '–',
      r.meta ? backendText(r.meta) : '?',
    ];
  });
  return table(
    'Runs',
    ['run', 'env family', 'level', 'seed', 'status', 'env steps', 'final return', ...NOISE_COMPONENTS.map((c) => `B_simple avg, ${c}`), 'B_simple, policy, at matched progress', 'backend'],
    rows,
  );
}
