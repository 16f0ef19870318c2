/** The page's pieces: tables mark numeric cells and escape text; sections show their parts in the order they say. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { esc, metaTable, ReportPage, section, slug, table } from '../../src/report/html.js';
import { tempDir } from '../helpers/report-assert.js';

describe('report html', () => {
  it('tables: numbers right-aligned, text escaped, empty metadata left out', () => {
    const html = table('A <caption>', ['x', 'y'], [['1,230 [890, 1,700]', '<b>']]);
    assert.ok(html.includes('<h3>A &lt;caption&gt;</h3>'));
    assert.ok(html.includes('<td class="num">1,230 [890, 1,700]</td><td>&lt;b&gt;</td>'));
    const meta = metaTable('M', [
      ['kept', 0.5],
      ['gone', undefined],
      ['empty', ''],
    ]);
    assert.ok(meta.includes('<td>kept</td><td class="num">0.5</td>') && !meta.includes('gone') && !meta.includes('empty'));
    assert.equal(esc('"a" & b'), '&quot;a&quot; &amp; b');
    assert.equal(slug('CartPole-v1 · agent.lr=0.001'), 'cartpole-v1-agent-lr-0-001');
  });

  it('a section shows its parts in its own order: findings can lead and details close', () => {
    const page = new ReportPage(tempDir());
    const parts = { details: ['<p>D</p>'], figures: ['<p>F</p>'], findings: ['<p>R</p>'] };
    page.add(section('First', parts, ['figures', 'findings', 'details']));
    page.add(section('Second', parts, ['findings', 'figures', 'details']));
    const html = page.html('Intro.');
    const first = html.slice(html.indexOf('>First</h2>'), html.indexOf('>Second</h2>'));
    const second = html.slice(html.indexOf('>Second</h2>'));
    assert.ok(first.indexOf('<p>F</p>') < first.indexOf('<p>R</p>') && first.indexOf('<p>R</p>') < first.indexOf('<p>D</p>'));
    assert.ok(second.indexOf('<p>R</p>') < second.indexOf('<p>F</p>'));
    assert.ok(html.includes('<li><a href="#section-1">Second</a></li>') && html.includes('<p class="note">Intro. Redrawn by'));
  });
});
