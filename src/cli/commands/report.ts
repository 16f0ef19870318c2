/** `gradnoise report DIR`: redraw the plots and report.html of a run, sweep, critical-batch or reproduce folder. */
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

interface ReportArgs {
  dir: string;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <dir>',
  describe: 'Redraw the plots (DIR/plots/*.svg) and DIR/report.html from a run, sweep, critical-batch or reproduce folder',
  builder: (y: Argv) =>
    y
      .positional('dir', { type: 'string', demandOption: true, describe: 'a gradnoise output folder (run, sweep, critical-batch or reproduce)' })
      .example('$0 report results/CartPole-v1__ppo__1__20250101T000000Z', '') as unknown as Argv<ReportArgs>,
  handler: async (args: ArgumentsCamelCase<ReportArgs>) => {
    // Loaded on demand: the plotting stack is heavy and other commands do not need it.
    const { writeReport } = await import('../../report/report.js');
    const result = await writeReport(args.dir);
    const rel = (file: string) => {
      const relative = path.relative(process.cwd(), file);
      return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
    };
    process.stdout.write(`gradnoise: ${result.kind} report with ${result.plots.length} plot(s): ${rel(result.html)}\n`);
  },
};
