/**
 * report.html as a person sees it: opened from file:// in headless Chromium, it loads without errors or network
 * requests and shows every plot at a non-zero size.
 *
 * The browser is a system Chromium where one exists, else the one bundled in the `@sparticuz/chromium`
 * devDependency, so `npm ci && npm test` runs this test on any Linux x64 machine; GRADNOISE_CHROMIUM=path overrides.
 * GRADNOISE_SCREENSHOT=file.png saves a full-page screenshot of the report.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { writeReport } from '../../src/report/report.js';
import { findChromium, type ChromiumLaunch } from '../helpers/chromium.js';
import { writeReproduceFolder, writeRunFolder } from '../helpers/report-fixtures.js';


interface PageCheck {
  errors: string[];
  requests: string[];
  figures: { id: string; width: number; height: number; texts: number }[];
}

async function openReport(browser: ChromiumLaunch, htmlFile: string, screenshot?: string): Promise<PageCheck> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: browser.executablePath,
    headless: true,
    args: browser.args,
    viewport: { width: 1280, height: 900 },
  });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
    });
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()}`));
    page.on('request', (request) => requests.push(request.url()));
    const response = await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load' });
    assert.ok(response === null || response.ok(), 'report.html loads');
    const figures = await page.$$eval('figure.plot', (nodes) =>
      nodes.map((figure) => {
        const svg = figure.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return { id: figure.id, width: box?.width ?? 0, height: box?.height ?? 0, texts: svg?.querySelectorAll('text').length ?? 0 };
      }),
    );
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return { errors, requests, figures };
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

describe('report.html in headless Chromium', { timeout: 180_000 }, () => {
  it('loads from file:// without errors or network requests and shows every plot', async () => {
    const browser = await findChromium();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-report-browser-'));
    const reproduce = path.join(root, 'reproduce');
    writeReproduceFolder(reproduce);
    const run = path.join(root, 'run');
    writeRunFolder(run, { updates: 40 });

    for (const [dir, screenshot] of [
      [reproduce, process.env['GRADNOISE_SCREENSHOT']],
      [run, undefined],
    ] as const) {
      const result = await writeReport(dir);
      const check = await openReport(browser, result.html, screenshot);
      assert.deepEqual(check.errors, [], `${dir}: no console or page errors (${browser.source} Chromium at ${browser.executablePath})`);
      const remote = check.requests.filter((url) => !url.startsWith('file://'));
      assert.deepEqual(remote, [], `${dir}: nothing fetched from the network`);
      assert.equal(check.figures.length, result.plots.length, `${dir}: one figure per plot`);
      for (const figure of check.figures) {
        assert.ok(figure.width > 200 && figure.height > 150, `${figure.id} is drawn (${figure.width}×${figure.height})`);
        assert.ok(figure.texts > 5, `${figure.id} has its titles and labels`);
      }
      const shown = check.figures.map((f) => f.id.replace(/^fig-/, '')).sort();
      assert.deepEqual(shown, result.plots.map((p) => path.basename(p, '.svg')).sort());
    }
  });
});
