/**
 * The data of the protocol's summary figures over the critical-batch parts of a folder: (a) the like-with-like fits
 * (slope and r² of each noise measure against B_crit, with bootstrap intervals over task-levels), (b) E_min against
 * the noise scale, (c) B_simple against normalised score per task-level.
 */
import { difficultyVerdicts, logLogFitIntervals, NOISE_MEASURES, type LevelEMin, type NoiseMeasure } from '../analysis/findings-critical.js';
import { postUpdateReturns, POST_UPDATE_EPISODES } from '../analysis/score.js';
import { noiseByScore } from '../analysis/score-progress.js';
import { readBaseline, scaleOf } from '../experiments/critical-batch-baseline.js';
import type { CriticalBatchDefinition } from '../experiments/critical-batch.js';
import { taskName } from './critical-section.js';
import type { CriticalInfo } from './load.js';
import type { MeasurePoint } from './plots/noise-vs-bcrit.js';
import { difficultyVsNoise, noiseByScorePlot, type DifficultyPoint, type ScoreBinPoint } from './plots/summary.js';
import { formatFigure, formatValue } from '../analysis/findings-format.js';
import { table, type ReportPage } from './html.js';

/** Per measure, the power law of the measure against B_crit with its intervals (rows of the fits table). */
export function measureFits(points: readonly MeasurePoint[]): { measure: NoiseMeasure; fit: ReturnType<typeof logLogFitIntervals> }[] {
  return NOISE_MEASURES.map((measure) => ({ measure, fit: logLogFitIntervals(points.filter((p) => p.measure === measure).map((p) => ({ x: p.bCrit, y: p.value }))) })).filter((m) => m.fit.n > 0);
}

/**
 * Whether a target's fit gives E_min: a fit inside the batch range, or B_crit above it (S_min = 0: the steps fall as
 * 1/B over the whole range, so the samples are a constant, E_min, with its own profile interval). Not where B_crit
 * lies below the range (E_min 0) or no fit was made.
 */
function hasEMin(f: CriticalInfo['fits'][number]): boolean {
  return (f.regime === 'fit' || f.regime === 'b_crit_above_range') && f.eMin > 0;
}

/**
 * E_min against the noise scale, one point per target with an E_min (`hasEMin`): the w-weighted B_simple where the
 * folder has it (what eq. 2.7 says should match), else the ratio of means.
 */
export function difficultyPoints(infos: readonly CriticalInfo[]): DifficultyPoint[] {
  return infos.flatMap((info) =>
    info.fits.flatMap((f) => {
      if (!hasEMin(f)) return [];
      const w = f.extra?.bSimpleW.value ?? NaN;
      const noise = Number.isFinite(w) && w > 0 ? w : f.bSimple.value;
      return [{ group: taskName(info), text: f.spec?.label ?? '', noise, eMin: f.eMin, eMinLo: f.extra?.eMin.lo ?? NaN, eMinHi: f.extra?.eMin.hi ?? NaN }];
    }),
  );
}

/** E_min of every target of every part where the fit gives one (the difficulty verdict's input). */
export function levelEMins(infos: readonly CriticalInfo[]): LevelEMin[] {
  return infos.flatMap((info) =>
    info.fits.flatMap((f) => {
      if (!Number.isFinite(info.level)) return [];
      const eMin = hasEMin(f) && f.extra ? f.extra.eMin : { value: NaN, lo: NaN, hi: NaN, n: 0 };
      return [{ env: info.env, level: info.level, target: f.spec?.label ?? formatValue(f.target), eMin }];
    }),
  );
}

/** B_simple per score bin of every run of each critical-batch part (its own component, its own estimate episodes). */
export function scoreBinPoints(infos: readonly CriticalInfo[]): ScoreBinPoint[] {
  return infos.flatMap((info) => {
    const scale = scaleOf(readBaseline(info.dir));
    if (!scale) return [];
    const definition = info.manifest?.kind === 'critical-batch' ? (info.manifest.definition as CriticalBatchDefinition) : null;
    const episodes = definition?.reachEpisodes ?? POST_UPDATE_EPISODES;
    const runs = info.runs.flatMap((run) => {
      const reach = postUpdateReturns(run.folder.metrics, episodes);
      return reach ? [{ reach, noise: run.series.noise[info.component] }] : [];
    });
    if (runs.length === 0) return [];
    return noiseByScore(runs, scale, { replicates: 500 })
      .filter((bin) => bin.runs > 0)
      .map((bin) => ({ group: taskName(info), score: bin.centre, bSimple: bin.bSimple.estimate, lo: bin.bSimple.lo, hi: bin.bSimple.hi, runs: bin.runs }));
  });
}

/**
 * The fits table of (a) and figures (b) and (c) over a folder's critical-batch parts, as the report shows them beside
 * the like-with-like figure.
 */
export async function protocolFigures(page: ReportPage, criticals: readonly CriticalInfo[], measures: readonly MeasurePoint[]): Promise<{ figures: string[]; findings: string[] }> {
  const figures: string[] = [];
  const findings: string[] = [];
  const fits = measureFits(measures);
  if (fits.length > 0) {
    const range = (lo: number, hi: number) => `[${formatValue(lo)}, ${formatValue(hi)}]`;
    findings.push(
      table(
        'Power law of each noise measure against B_crit over the task-levels (log-log least squares; 95% bootstrap over task-levels)',
        ['measure', 'points', 'slope', 'slope 95%', 'r²', 'r² 95%'],
        fits.map(({ measure, fit }) => [measure, String(fit.n), formatValue(fit.slope), range(fit.slopeLo, fit.slopeHi), formatValue(fit.r2), range(fit.r2Lo, fit.r2Hi)]),
      ),
    );
  }
  const verdicts = difficultyVerdicts(levelEMins(criticals));
  if (verdicts.some((v) => v.verdict !== 'base')) {
    findings.push(
      table(
        'Difficulty measured: E_min per level against the lowest level measured at the same target (harder only where the 95% intervals do not overlap)',
        ['env', 'target', 'level', 'E_min (env steps)', '÷ base level', 'verdict'],
        verdicts.map((v) => [v.env, v.target, v.verdict === 'base' ? `${v.level} (base)` : String(v.level), formatFigure(v.eMin), v.verdict === 'base' ? '1' : formatValue(v.ratio), v.verdict === 'base' ? '–' : v.verdict]),
      ),
    );
  }
  const difficulty = difficultyPoints(criticals);
  if (difficulty.length > 0) {
    const title = `Difficulty vs noise scale: ${new Set(difficulty.map((d) => d.group)).size} task-levels`;
    const caption =
      'E_min (env steps to the target in the small-batch limit, from the critical-batch fit, with its 95% profile-likelihood interval) against B_simple averaged up to the target (w-weighted where measured, else ratio of means), per task-level and target (log-log); dashed: least-squares power law. The paper: harder tasks have larger noise scales.';
    figures.push(page.figure('difficulty-vs-noise', await difficultyVsNoise(difficulty, { id: 'difficulty-vs-noise', title }), caption));
  }
  const byScore = scoreBinPoints(criticals);
  if (byScore.length > 0) {
    const caption =
      'B_simple (each part’s compared component) against the normalised score of the post-update return at the parameters measured, in fixed bins 0.2 wide, pooled (ratio of means) over every run of each task-level — all batch sizes and learning rates; bars: 95% bootstrap over runs. The paper: the noise scale grows as the agent improves.';
    figures.push(page.figure('noise-by-score', await noiseByScorePlot(byScore, { id: 'noise-by-score' }), caption));
  }
  return { figures, findings };
}
