import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { TaskPort } from '@canopy/core/compute';

// Opens the built GPU window page (renderer/dist/gpu.html) in Chromium and gives Node the
// node's end of its MessagePort. The page is served over HTTP from 127.0.0.1 (a secure
// context, as Electron's file:// is) because Chromium refuses module scripts from file://.
// The page receives its port exactly as the Electron preload hands it over: a same-window
// postMessage of 'canopy:gpu-port' carrying the port. The other end is bridged to Node.

const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.map': 'application/json', '.svg': 'image/svg+xml' };

/** Serves `dir` read-only on 127.0.0.1 (no CSP header: the page's own meta CSP applies). */
export async function serveDir(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(dir + sep)) {
      res.writeHead(403).end();
      return;
    }
    readFile(path).then(
      (body) => res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A GPU window page and the node's end of its port. */
export interface GpuTrainerPage {
  readonly page: Page;
  readonly port: TaskPort;
  /** Every message the page sent, in order (the test reads error replies from it). */
  readonly received: unknown[];
  /** Posts a raw message, bypassing portCompute (for malformed ones). */
  postRaw(message: unknown): Promise<void>;
}

/** Opens gpu.html?backend=`backend` and connects its port. */
export async function openGpuTrainer(browser: Browser, baseUrl: string, backend: string): Promise<GpuTrainerPage> {
  const page = await browser.newPage();
  const listeners: Array<(data: unknown) => void> = [];
  const closers: Array<() => void> = [];
  const received: unknown[] = [];
  await page.exposeFunction('__canopyFromTrainer', (data: unknown) => {
    received.push(data);
    for (const l of listeners) l(data);
  });
  page.on('close', () => closers.forEach((c) => c()));
  page.on('crash', () => closers.forEach((c) => c()));
  page.on('pageerror', (err) => received.push({ pageerror: err.message }));
  await page.goto(`${baseUrl}/gpu.html?backend=${backend}`);
  await page.evaluate(() => {
    const ch = new MessageChannel();
    const w = window as unknown as { __canopyToTrainer: MessagePort; __canopyFromTrainer(data: unknown): void };
    w.__canopyToTrainer = ch.port1;
    ch.port1.onmessage = (e) => void w.__canopyFromTrainer(e.data);
    window.postMessage('canopy:gpu-port', '*', [ch.port2]);
  });
  const postRaw = async (message: unknown) => {
    await page.evaluate((m) => (window as unknown as { __canopyToTrainer: MessagePort }).__canopyToTrainer.postMessage(m), message);
  };
  let closed = false;
  const port: TaskPort = {
    post: (message) => {
      postRaw(message).catch(() => closers.forEach((c) => c()));
    },
    onMessage: (l) => void listeners.push(l),
    onClose: (l) => void closers.push(() => {
      if (!closed) l();
    }),
    close: () => {
      closed = true;
    },
  };
  return { page, port, received, postRaw };
}
