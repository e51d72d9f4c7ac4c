import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startLoopbackJob, type LoopbackJob } from './loopbackJob.js';

// The UI end to end: Debian's Chromium drives the real renderer bundle served by the UI
// server of a real node that takes part in a real job on loopback. Nothing of ours is mocked.

const shots = join(import.meta.dirname, '..', 'artifacts', 'screenshots');
const staticDir = join(import.meta.dirname, '..', '..', 'renderer', 'dist');
let job: LoopbackJob;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await mkdir(shots, { recursive: true });
  job = await startLoopbackJob(4, staticDir);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  page = await browser.newPage({ viewport: { width: 1360, height: 860 }, deviceScaleFactor: 1 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await job?.stop();
});

async function go(screen: string): Promise<void> {
  await page.click(`button[data-screen="${screen}"]`);
  await page.waitForSelector(`main[data-screen="${screen}"]`);
}

describe('canopy node --ui in Chromium', () => {
  it('refuses a wrong token and says so', async () => {
    await page.goto(`http://127.0.0.1:${job.ui.port}/#token=${'0'.repeat(64)}`);
    await page.waitForSelector('[data-testid="connect-error"]');
    expect(await page.textContent('[data-testid="connect-error"]')).toMatch(/refused this token/);
    await page.screenshot({ path: join(shots, '0-wrong-token.png') });
  });

  it('connects with the printed link and shows the node', async () => {
    // A hash-only change would not reload the page: start from a blank one, as a new tab would.
    await page.goto('about:blank');
    await page.goto(job.ui.url);
    await page.waitForSelector('[data-testid="peer-id"]');
    expect(await page.textContent('[data-testid="peer-id"]')).toBe(job.me.peerId);
    // The token left the address bar as soon as it was read.
    expect(page.url()).not.toContain('token=');
    await page.waitForFunction(() => document.querySelectorAll('.peer-list li').length >= 1);
    await page.screenshot({ path: join(shots, '1-node.png') });
  });

  it('follows a real job through its rounds to the end, with the charts updating', async () => {
    await job.submit();
    await go('training');
    await page.waitForSelector('.job-panel', { timeout: 60_000 });
    await page.waitForFunction(() => Number(document.querySelector('svg[aria-label="Accuracy"]')?.getAttribute('data-points') ?? 0) >= 1, undefined, { timeout: 60_000 });
    const firstPoints = Number(await page.getAttribute('svg[aria-label="Accuracy"]', 'data-points'));
    await page.screenshot({ path: join(shots, '4-training-running.png') });
    await page.waitForFunction(() => document.querySelector('.job-panel .pill')?.textContent === 'finished', undefined, { timeout: 90_000 });
    const points = Number(await page.getAttribute('svg[aria-label="Accuracy"]', 'data-points'));
    expect(points).toBeGreaterThan(firstPoints);
    expect(await page.textContent('[data-testid="round"]')).toMatch(/^4 \/ 4$/);
    await page.screenshot({ path: join(shots, '4-training.png') });
  }, 180_000);

  it('lists the consent receipt, the logs, and the other screens', async () => {
    await go('consent');
    await page.waitForSelector('[data-testid="receipt"]');
    expect(await page.textContent('[data-testid="receipt"]')).toContain('approved');
    await page.screenshot({ path: join(shots, '3-consent.png') });
    await go('logs');
    await page.waitForSelector('.log-line');
    await page.screenshot({ path: join(shots, '6-logs.png') });
    await go('invitations');
    await page.screenshot({ path: join(shots, '2-invitations.png') });
    await go('outbox');
    await page.screenshot({ path: join(shots, '5-outbox.png') });
  });
});
