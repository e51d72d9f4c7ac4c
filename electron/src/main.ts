import { app, BrowserWindow, ipcMain, MessageChannelMain, powerMonitor, session, utilityProcess } from 'electron';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { NodeLink } from './ipc/nodeLink.js';
import { forwardEvent, registerHandlers, type TrustedWindow } from './ipc/registerHandlers.js';
import { hardenSession, hardenWebContents, secureWebPreferences } from './window/security.js';
import { relayGpuWindow } from './gpu/gpuWindow.js';
import { watchOwnerActivity } from './idle/watchOwnerActivity.js';

// Main wires the node to the window and holds no business logic: the node runs in a
// utility process, the UI in a sandboxed renderer, and main only validates and relays.

const here = dirname(fileURLToPath(import.meta.url));
const pageFile = join(here, '..', '..', 'renderer', 'dist', 'index.html');
const gpuPageFile = join(here, '..', '..', 'renderer', 'dist', 'gpu.html');

/** Creates the window, the node process and the IPC between them. */
export async function startApp(): Promise<void> {
  await app.whenReady();
  hardenSession(session.defaultSession, { wasmPages: [pathToFileURL(gpuPageFile).href] });
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 960,
    minHeight: 640,
    title: 'Canopy',
    backgroundColor: '#f6f7f9',
    show: false,
    webPreferences: secureWebPreferences(join(here, 'preload.cjs')),
  });
  const trusted: TrustedWindow = { webContents: () => (win.isDestroyed() ? undefined : win.webContents), pageUrl: pathToFileURL(pageFile).href };
  hardenWebContents(win.webContents, trusted.pageUrl);

  const child = utilityProcess.fork(join(here, 'nodeHost.js'), [join(app.getPath('userData'), 'node')], { serviceName: 'Canopy node', stdio: 'inherit' });
  const link = new NodeLink(child, (name, payload) => forwardEvent(trusted, name, payload));
  const unregister = registerHandlers(ipcMain, link, trusted);
  // The node host asks for the hidden GPU window when the owner's pin and limits allow it.
  const gpu = relayGpuWindow(child, { BrowserWindow, MessageChannelMain }, { page: gpuPageFile, preload: join(here, 'gpuPreload.cjs') }, (line) => process.stderr.write(`${line}\n`));
  // The node host asks main to watch the owner's activity while "only while idle" is on.
  const activity = watchOwnerActivity(child, powerMonitor);

  win.once('ready-to-show', () => win.show());
  await win.loadFile(pageFile);
  app.on('window-all-closed', () => {
    unregister();
    gpu.close();
    activity.close();
    child.kill();
    app.quit();
  });
}

// Refuse a second instance: two nodes on one data directory would fight over its files.
if (app.requestSingleInstanceLock()) void startApp();
else app.quit();
