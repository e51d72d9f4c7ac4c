import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { encodeInviteLink } from '@canopy/core/net';
import { startLoopbackJob, type LoopbackJob } from './loopbackJob.js';

// The UI end to end: Debian's Chromium drives the real renderer bundle served by the UI
// server of a real node that takes part in real jobs on loopback, training with tfjs on the
// embedded MNIST. The owner answers every question by clicking. Nothing of ours is mocked.
// The machine is shared and slow: waits are generous, and nothing here is timed.

const shots = join(import.meta.dirname, '..', 'artifacts', 'screenshots');
const staticDir = join(import.meta.dirname, '..', '..', 'renderer', 'dist');
const ROUNDS = 5;
let approvedChunk: string | undefined;
let job: LoopbackJob;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await mkdir(shots, { recursive: true });
  job = await startLoopbackJob(staticDir);
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

const points = async (chart: string) => Number(await page.getAttribute(`svg[aria-label="${chart}"]`, 'data-points'));

/** Accepts the pending invitation of `name` by clicking, on the Invitations screen. */
async function acceptInvitation(name: string): Promise<void> {
  await go('invitations');
  const card = page.locator('.invitation', { hasText: name }).filter({ hasText: 'Waiting for you' });
  await card.waitFor({ timeout: 60_000 });
  await card.getByRole('button', { name: 'Accept as client' }).click();
  await page.locator('.invitation', { hasText: name }).filter({ hasText: 'Accepted' }).waitFor();
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

  it('shows the peer id with a copy button, the peers: entry, the reachability in words, and joins a network', async () => {
    await go('node');
    const origin = new URL(job.ui.url).origin;
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    await page.click('button[aria-label="Copy peer id"]');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(job.me.peerId);
    // Loopback only: no relay slot, nothing confirmed by AutoNAT.
    expect(await page.textContent('[data-testid="reachability"]')).toBe('Not reachable yet');
    await page.fill('input[aria-label="Your name in the job"]', 'alice');
    const entry = (await page.textContent('[data-testid="peers-entry"]'))!;
    expect(entry).toContain(`peers:\n  alice:\n    peerId: ${job.me.peerId}\n`);
    await page.click('button[aria-label="Copy the peers: entry"]');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(entry);

    // Text that is no network: one line, nothing joined.
    await page.fill('textarea[aria-label="Network file or invite link"]', 'name: lab');
    await page.click('button:has-text("Join network")');
    await page.waitForSelector('[data-testid="join-error"]');
    expect(await page.textContent('[data-testid="join-error"]')).toMatch(/^the pasted network is not a valid network: bootstrap: /);
    // The invite link of a network whose bootstrap peer is the root node: joined and listed.
    const rootAddr = job.root.multiaddrs().find((a) => a.includes('/tcp/'))!;
    const link = encodeInviteLink({ name: 'loopback-lab', bootstrap: [rootAddr.includes('/p2p/') ? rootAddr : `${rootAddr}/p2p/${job.root.peerId}`] });
    await page.fill('textarea[aria-label="Network file or invite link"]', link);
    await page.click('button:has-text("Join network")');
    await page.waitForSelector('[data-testid="join-done"]', { timeout: 60_000 });
    expect(await page.textContent('[data-testid="networks"]')).toContain('loopback-lab');
    await page.screenshot({ path: join(shots, '1-node-network.png'), fullPage: true });
  });

  it('asks before joining and before downloading; approved, the job trains to its last round', async () => {
    const rootId = await job.submit('digits', ROUNDS, 1);
    // Nothing is joined until the owner accepts the job sheet.
    await go('invitations');
    await page.locator('.invitation', { hasText: 'digits' }).filter({ hasText: 'Waiting for you' }).waitFor({ timeout: 60_000 });
    expect(job.me.runner(rootId)).toBeUndefined();
    await page.screenshot({ path: join(shots, '2-invitations.png') });
    await acceptInvitation('digits');

    // Nothing is downloaded until the owner approves; the dialog states the chunk's real size.
    const dialog = page.getByRole('dialog');
    await dialog.waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => /\d+(\.\d+)? (KB|MB|kB|MiB|KiB)/.test(document.querySelector('[role="dialog"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    const chunk = await job.chunkFor(rootId);
    expect(chunk).toMatch(/^[0-9a-f]{64}$/);
    expect(await job.storedBlobs()).not.toContain(chunk);
    approvedChunk = chunk;
    // The size asked about is that of the very chunk the distributor prepared for this node.
    const asked = (await job.ui.api.getSnapshot()).consents.find((c) => c.request.job === 'digits');
    expect(asked?.request.dataset.size).toBe(await job.root.blobs.store.size(chunk!));
    await page.screenshot({ path: join(shots, '3-consent-dialog.png') });
    await dialog.getByRole('button', { name: 'Approve download' }).click();
    await dialog.waitFor({ state: 'detached' });

    await go('training');
    await page.waitForSelector('.job-panel', { timeout: 60_000 });
    await page.waitForFunction(() => Number(document.querySelector('svg[aria-label="Accuracy"]')?.getAttribute('data-points') ?? 0) >= 1, undefined, { timeout: 120_000 });
    const firstPoints = await points('Accuracy');
    await page.waitForFunction(() => Number(document.querySelector('svg[aria-label="Accuracy"]')?.getAttribute('data-points') ?? 0) >= 2, undefined, { timeout: 120_000 });
    await page.screenshot({ path: join(shots, '4-training-running.png') });
    await page.waitForFunction(() => document.querySelector('.job-panel .pill')?.textContent === 'finished', undefined, { timeout: 240_000 });
    // The last round's metrics arrive with the final snapshot; wait for the charts to catch up.
    await page.waitForFunction((n) => Number(document.querySelector('svg[aria-label="Accuracy"]')?.getAttribute('data-points') ?? 0) >= n, ROUNDS, { timeout: 30_000 });
    expect(await points('Accuracy')).toBeGreaterThan(firstPoints);
    expect(await points('Loss')).toBeGreaterThanOrEqual(ROUNDS);
    expect(await page.textContent('[data-testid="round"]')).toBe(`${ROUNDS} / ${ROUNDS}`);
    // Real training on real digits: the model learned something.
    const accuracy = Number((await page.textContent('[data-testid="accuracy"]'))?.replace('%', ''));
    expect(accuracy).toBeGreaterThan(60);
    // The approved chunk was downloaded, and only after approval.
    expect(await job.storedBlobs()).toContain(chunk);
    await page.screenshot({ path: join(shots, '4-training.png') });
  }, 420_000);

  it('declined, the dataset is never downloaded, and the UI says so', async () => {
    const rootId = await job.submit('digits-declined', ROUNDS, 2);
    await acceptInvitation('digits-declined');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor({ timeout: 60_000 });
    await dialog.getByText('digits-declined').first().waitFor();
    // The owner looks at a dataset of their own first: its labels and a few samples.
    await dialog.getByRole('button', { name: 'Use my own dataset…' }).click();
    await dialog.getByRole('button', { name: 'Preview' }).click();
    await dialog.locator('[data-testid="dataset-preview"] .sample').first().waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(shots, '3-consent-local.png') });
    await dialog.getByRole('button', { name: '← Back to the download' }).click();
    await dialog.getByRole('button', { name: 'Decline' }).click();
    await dialog.waitFor({ state: 'detached' });

    await go('consent');
    const refused = page.locator('[data-testid="receipt"]', { hasText: 'refused' });
    await refused.waitFor({ timeout: 30_000 });
    expect(await refused.textContent()).toContain('declined by the owner');
    await go('training');
    await page.locator('.job-panel', { hasText: 'digits-declined' }).locator('.pill', { hasText: 'withdrawn' }).waitFor({ timeout: 60_000 });

    // The chunk the distributor prepared for this node never reached it, not even in part,
    // and the distributor never began serving it to this node.
    const chunk = await job.chunkFor(rootId);
    expect(chunk).toMatch(/^[0-9a-f]{64}$/);
    // Another split seed: another chunk, so its absence says something.
    expect(chunk).not.toBe(approvedChunk);
    expect(await job.storedBlobs()).not.toContain(chunk);
    expect(job.root.blobs.served.filter((s) => s.hash === chunk)).toEqual([]);
  }, 240_000);

  it('revoking consent withdraws the node: it goes silent and the host counts it offline', async () => {
    const rootId = await job.submit('digits-revoked', 40, 3);
    await acceptInvitation('digits-revoked');
    const dialog = page.getByRole('dialog');
    await dialog.getByText('digits-revoked').first().waitFor({ timeout: 60_000 });
    await dialog.getByRole('button', { name: 'Approve download' }).click();
    await dialog.waitFor({ state: 'detached' });
    await go('training');
    const panel = page.locator('.job-panel', { hasText: 'digits-revoked' });
    await panel.locator('.pill', { hasText: 'training' }).or(panel.locator('.pill', { hasText: 'submitted' })).first().waitFor({ timeout: 120_000 });

    const offline = job.root.events.once('metric', (d) => d.rootId === rootId && d.name === 'memberOffline' && d.values.member === 'me');
    await go('consent');
    await page.locator('[data-testid="receipt"]', { hasText: 'digits-revoked' }).getByRole('button', { name: 'Revoke' }).click();
    await page.locator('[data-testid="receipt"]', { hasText: 'digits-revoked' }).filter({ hasText: 'revoked by the owner' }).waitFor();
    await go('training');
    await panel.locator('.pill', { hasText: 'withdrawn' }).waitFor({ timeout: 30_000 });
    expect(job.me.runner(rootId)!.isWithdrawn('digits-revoked')).toBe(true);
    // The protocol sees a member that stopped answering, and goes on without it.
    await offline;
    await page.screenshot({ path: join(shots, '4-training-withdrawn.png') });
  }, 300_000);

  it('lists the receipts, what left the machine, and the logs', async () => {
    await go('consent');
    await page.waitForSelector('[data-testid="receipt"]');
    const receipts = await page.locator('[data-testid="receipt"]').allTextContents();
    expect(receipts.some((r) => r.includes('approved'))).toBe(true);
    expect(receipts.some((r) => r.includes('refused'))).toBe(true);
    await page.screenshot({ path: join(shots, '3-consent.png') });
    await go('outbox');
    await page.waitForSelector('[data-testid="outbox-row"]', { timeout: 30_000 });
    expect(await page.locator('[data-testid="outbox-row"]', { hasText: 'parameters' }).count()).toBeGreaterThanOrEqual(ROUNDS);
    await page.screenshot({ path: join(shots, '5-outbox.png') });
    await go('logs');
    await page.waitForSelector('.log-line');
    await page.screenshot({ path: join(shots, '6-logs.png') });
  });
});
