/**
 * The report page: sections of findings, figures and details; tables; escaping. Every figure is written to
 * `plots/<name>.svg` and inlined in the page (so report.html is self-contained, opens from file:// and loads nothing
 * from the network), with a link to its file.
 *
 * A section keeps its blocks in three parts (findings, figures, details) and says the order it shows them in, so a
 * page can lead with its findings and leave metadata to the end by changing that order alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FINDINGS_CONFIDENCE } from '../analysis/findings.js';
import { formatSetting } from '../analysis/findings-format.js';

export type Part = 'findings' | 'figures' | 'details';

export interface Section {
  readonly title: string;
  /** HTML blocks per part. */
  readonly parts: Readonly<Record<Part, readonly string[]>>;
  /** The order the parts are shown in. */
  readonly order: readonly Part[];
}

export function section(title: string, parts: Partial<Record<Part, readonly string[]>>, order: readonly Part[]): Section {
  return { title, parts: { findings: parts.findings ?? [], figures: parts.figures ?? [], details: parts.details ?? [] }, order };
}

/** The sections of one report and the plots they inline. */
export class ReportPage {
  readonly plots: string[] = [];
  readonly sections: Section[] = [];
  constructor(readonly dir: string) {}

  /** Write one SVG to plots/ and return the HTML figure that inlines it. */
  figure(name: string, svg: string, caption: string): string {
    const plotsDir = path.join(this.dir, 'plots');
    fs.mkdirSync(plotsDir, { recursive: true });
    const file = path.join(plotsDir, `${name}.svg`);
    writeFileAtomic(file, `${svg}\n`);
    this.plots.push(file);
    const rel = `plots/${name}.svg`;
    return `<figure id="fig-${esc(name)}" class="plot">${svg}<figcaption>${esc(caption)} <a href="${esc(rel)}">${esc(rel)}</a></figcaption></figure>`;
  }

  add(s: Section): void {
    this.sections.push(s);
  }

  /** The whole page; `intro` says what the folder holds. */
  html(intro: string): string {
    const name = path.basename(this.dir);
    const nav = this.sections.map((s, i) => `<li><a href="#section-${i}">${esc(s.title)}</a></li>`).join('');
    const body = this.sections
      .map((s, i) => `<section id="section-${i}"><h2>${esc(s.title)}</h2>\n${s.order.flatMap((p) => s.parts[p]).join('\n')}\n</section>`)
      .join('\n');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gradnoise report: ${esc(name)}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5rem auto; max-width: 1200px; padding: 0 1rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 0.4rem; }
figure.plot { margin: 1rem 0; } figure.plot svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 0.85rem; color: #555; } figcaption a { color: #36c; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.4rem 0; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; } th { background: #f4f4f4; }
table.meta th:empty { display: none; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { font-size: 0.8rem; color: #555; max-width: 60rem; }
ul.findings { font-size: 0.9rem; max-width: 70rem; } ul.findings li { margin: 0.2rem 0; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; font-size: 0.8rem; }
</style>
</head>
<body>
<h1>gradnoise report: ${esc(name)}</h1>
<p class="note">${esc(intro)} Redrawn by <code>gradnoise report</code> from the folder's CSV and JSON files. B_simple = tr(Σ)/|G|² (McCandlish et al. 2018, eq. 2.9), in samples (env steps); intervals at ${pct(FINDINGS_CONFIDENCE)}.</p>
<nav><ul>${nav}</ul></nav>
${body}
</body>
</html>
`;
  }
}

export function table(caption: string, header: readonly string[], rows: readonly (readonly string[])[], cls = 'findings'): string {
  const head = header.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td${/^[\d.,\-–×≥ \[\]∞()kMG]+$/.test(c) ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<h3>${esc(caption)}</h3>\n<table class="${cls}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A two-column table of named values; empty values are left out. */
export function metaTable(caption: string, entries: readonly (readonly [string, unknown])[]): string {
  const rows = entries.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => [k, formatSetting(v)]);
  return table(caption, ['', ''], rows, 'meta');
}

/** A collapsed block of text (a JSON file). */
export function details(summary: string, text: string): string {
  return `<details><summary>${esc(summary)}</summary><pre>${esc(text)}</pre></details>`;
}

/** A note under a table or figure; `html` is markup (escape what it quotes). */
export function note(html: string): string {
  return `<p class="note">${html}</p>`;
}

export function pct(p: number): string {
  return `${Number((p * 100).toFixed(1))}%`;
}

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A name fit for a file or an element id. */
export function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'x'
  );
}

export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
