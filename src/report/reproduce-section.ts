/**
 * A reproduce folder's sections, findings first: the findings of every sweep (policy gradient); the noise scales
 * (B_simple and B_noise, w-weighted and ratio of means) and B_simple vs B_crit over every critical-batch part, points
 * coloured by task (env and level) or measure and labelled by target; every part's own section; and last, from
 * reproduce.json, the preset, status, machine, wall time per part and the rules.
 */
import path from 'node:path';
import { formatSetting, formatCompact, formatValue } from '../analysis/findings-format.js';
import type { RunData } from '../analysis/findings.js';
import type { MachineInfo } from '../run/machine.js';
import { formatDuration } from '../run/progress.js';
import { criticalPoints, criticalSection, criticalSummaryTable, measurePoints } from './critical-section.js';
import { noiseVsBCrit } from './plots/noise-vs-bcrit.js';
import { metaTable, note, section, slug, table, type ReportPage, type Section } from './html.js';
import type { CriticalInfo, ReproduceInfo, SweepInfo } from './load.js';
import { bCritVsBSimple } from './plots/critical.js';
import { protocolFigures } from './summary-figures.js';
import { backendsUsed, runSection } from './run-section.js';
import { familyFindingsTable, findingsInWords, sweepFindings, sweepSection } from './sweep-section.js';

/** All sections of a reproduce folder, in the order the page shows them. */
export async function reproduceSections(page: ReportPage, info: ReproduceInfo): Promise<Section[]> {
  const sweeps = info.parts.flatMap((p) => (p.kind === 'sweep' ? [p.sweep] : []));
  const criticals = info.parts.flatMap((p) => (p.kind === 'critical-batch' ? [p.critical] : []));
  // Findings and summary figures first; the preset, machine and timing tables close the page.
  const sections: Section[] = [];

  const findings = sweeps.flatMap((sweep) => sweepFindings(sweep).filter((f) => f.component === 'policy').map((f) => ({ findings: f, sweep })));
  if (findings.length > 0) {
    sections.push(
      section(
        'Findings',
        {
          findings: [
            findingsInWords(findings),
            familyFindingsTable(findings, 'Findings: policy-gradient B_simple per env family (samples = env steps)'),
            note('Policy gradient only: the value and total components (dominated by the value regression) are in each sweep’s own table below.'),
          ],
        },
        ['findings'],
      ),
    );
  }

  if (criticals.length > 0) {
    const figures: string[] = [];
    const measures = measurePoints(criticals);
    if (measures.length > 0) {
      const svg = await noiseVsBCrit(measures, { id: 'noise-vs-bcrit', title: `Noise scales vs critical batch size: ${new Set(measures.map((m) => m.label.split(',')[0])).size} task-levels` });
      figures.push(
        page.figure(
          'noise-vs-bcrit',
          svg,
          'Like with like: B_simple and B_noise, w-weighted and as ratio of means, averaged up to each target, vs the measured B_crit of every critical-batch part and target (log-log); grey: y = x; dashed: least-squares power law per measure, slope and r² in the legend.',
        ),
      );
    }
    const points = criticalPoints(criticals);
    if (points.length > 0) {
      const svg = await bCritVsBSimple(points, { id: 'bcrit-vs-bsimple', title: `Noise scale vs critical batch size: ${new Set(points.map((p) => p.group)).size} tasks` });
      const components = [...new Set(criticals.map((c) => c.component))].join(', ');
      figures.push(
        page.figure(
          'bcrit-vs-bsimple',
          svg,
          `Average B_simple (${components} gradient, ratio of means up to each target, pooled over the runs that reached it) vs the measured B_crit, for every critical-batch part and target (log-log); colour: task (env, difficulty level); text: target; solid: y = x; dashed: 10× either way.`,
        ),
      );
    }
    const protocol = await protocolFigures(page, criticals, measures);
    figures.push(...protocol.figures);
    sections.push(section('Noise scale vs critical batch size', { figures, findings: [...protocol.findings, criticalSummaryTable(criticals)] }, ['figures', 'findings']));
  }

  for (const part of info.parts) {
    const prefix = `${slug(path.basename(part.dir))}-`;
    if (part.kind === 'sweep') sections.push(await sweepSection(page, part.sweep, prefix, `Sweep ${path.basename(part.dir)}`));
    else if (part.kind === 'critical-batch') sections.push(await criticalSection(page, part.critical, prefix, false));
    else if (part.kind === 'run') sections.push(await runSection(page, part.run, prefix));
  }
  if (sweeps.length === 0 && criticals.length === 0 && !info.parts.some((p) => p.kind === 'run')) {
    sections.push(section('No results yet', { findings: [note('The sub-folders hold no runs yet.')] }, ['findings']));
  }
  sections.push(section('Reproduction: preset, machine, timing', { details: reproduceOverview(info, sweeps, criticals) }, ['details']));
  return sections;
}

const MACHINE_LABELS: readonly (readonly [keyof MachineInfo, string])[] = [
  ['platform', 'platform'],
  ['arch', 'architecture'],
  ['cpus', 'CPUs (available parallelism)'],
  ['cpuModel', 'CPU model'],
  ['memoryGiB', 'memory (GiB)'],
  ['node', 'node'],
  ['loadAverage', 'load average at start (1, 5, 15 min)'],
];

/** reproduce.json: the preset, its status and timings, the machine, every part's wall time, and the rules. */
function reproduceOverview(info: ReproduceInfo, sweeps: readonly SweepInfo[], criticals: readonly CriticalInfo[]): string[] {
  const manifest = info.manifest;
  if (!manifest) return [note('No reproduce.json here: the preset, timings and machine are unknown; the parts below are drawn from their own folders.')];
  const seconds = (v: number | null) => (v !== null && Number.isFinite(v) ? `${formatDuration(v)} (${formatValue(v)} s)` : undefined);
  const earlier = manifest.history.reduce((sum, h) => sum + (h.timings.totalS || 0), 0);
  const blocks = [
    metaTable('Preset', [
      ['preset', manifest.preset.name],
      ['description', manifest.preset.description],
      ['preset file', manifest.preset.file],
      ['status', manifest.status],
      ['gradnoise version', manifest.version],
      ['created', manifest.createdAt],
      ['last updated', manifest.updatedAt],
      ['workers', manifest.workers],
      ['wall time, this invocation', seconds(manifest.timings.totalS)],
      ['of which runs', seconds(manifest.timings.runsS)],
      ['of which report', seconds(manifest.timings.reportS)],
      ['earlier invocations (resumed)', manifest.history.length > 0 ? `${manifest.history.length}, ${formatDuration(earlier)} in all` : undefined],
    ]),
    metaTable(
      'Machine',
      MACHINE_LABELS.map(([key, label]) => {
        const value = manifest.machine[key];
        return [label, Array.isArray(value) ? value.join(', ') : value] as const;
      }),
    ),
  ];

  if (manifest.parts.length > 0) {
    const runsOf = (dir: string): readonly RunData[] => sweeps.find((s) => path.basename(s.dir) === dir)?.runs ?? criticals.find((c) => c.part === dir)?.runs ?? [];
    const rows = manifest.parts.map((p) => {
      const runs = runsOf(p.dir);
      const runWall = runs.reduce((sum, r) => sum + (r.folder.summary?.wallS || 0), 0);
      // Completed runs as the folder holds them now (reproduce.json counts those of its last invocation's end).
      const completed = runs.length > 0 ? runs.filter((r) => r.completed).length : p.completed;
      return [
        p.name,
        p.kind,
        p.status,
        `${formatSetting(completed)} / ${formatSetting(p.runs)}`,
        formatSetting(p.failed),
        formatCompact(p.envSteps),
        formatDuration(p.wallS),
        runWall > 0 ? formatDuration(runWall) : '–',
        p.backends.join(', ') || backendsUsed(runs) || '–',
        p.source,
      ];
    });
    blocks.push(
      table('Parts and wall time', ['part', 'kind', 'status', 'runs completed / planned', 'failed', 'env steps planned', 'wall time', 'runs’ own wall time, summed', 'backends', 'defined in'], rows, 'findings') +
        note('Wall time: time spent on the part, summed over invocations (a resumed part skips runs completed earlier). Runs’ own wall time: each run’s summary.json wallS, summed (runs execute in parallel across workers).'),
    );
  }
  blocks.push(
    table(
      'Rules',
      ['figure', 'rule'],
      Object.entries(manifest.rules).map(([k, v]) => [k, formatSetting(v)]),
      'rules',
    ),
  );
  return blocks;
}
