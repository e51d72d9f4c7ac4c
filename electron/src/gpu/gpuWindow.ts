import type { BrowserWindow as BrowserWindowType, MessageChannelMain as MessageChannelMainType, MessagePortMain } from 'electron';
import { pathToFileURL } from 'node:url';
import { hardenWebContents, secureWebPreferences } from '../window/security.js';
import { GPU_PORT_CHANNEL, GpuWindowRequest, type GpuWindowAnswer } from './gpuMessages.js';

/** What of Electron the GPU window needs (the test stands these in). */
export interface GpuElectron {
  readonly BrowserWindow: new (...args: ConstructorParameters<typeof BrowserWindowType>) => BrowserWindowType;
  readonly MessageChannelMain: new () => MessageChannelMainType;
}

/** Where the GPU window's page and preload are. */
export interface GpuWindowFiles {
  readonly page: string;
  readonly preload: string;
}

/** The node's utility process as the GPU relay sees it. */
export interface GpuChild {
  postMessage(message: unknown, transfer?: MessagePortMain[]): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
}

/**
 * Opens the hidden GPU window (renderer/gpu.html): never shown, sandboxed, context-isolated,
 * no Node, the strict session CSP, navigation and new windows denied. Once its page has
 * loaded, the window's end of a fresh MessageChannelMain goes to it; the other end is returned
 * for the node.
 */
export async function openGpuWindow(electron: GpuElectron, files: GpuWindowFiles, backend: string): Promise<{ win: BrowserWindowType; port: MessagePortMain }> {
  const win = new electron.BrowserWindow({ show: false, width: 320, height: 240, title: 'Canopy GPU', webPreferences: { ...secureWebPreferences(files.preload), backgroundThrottling: false } });
  hardenWebContents(win.webContents, pathToFileURL(files.page).href);
  await win.loadFile(files.page, { query: { backend } });
  const { port1, port2 } = new electron.MessageChannelMain();
  win.webContents.postMessage(GPU_PORT_CHANNEL, null, [port1]);
  return { win, port: port2 };
}

/**
 * Serves the node host's GPU window requests: 'gpu:open' opens the window and sends the node
 * its end of the port; 'gpu:close' (the node trains elsewhere) and the node's exit close it.
 * Requests are decoded; anything else on the channel is the app contract's and ignored here.
 */
export function relayGpuWindow(child: GpuChild, electron: GpuElectron, files: GpuWindowFiles, log: (line: string) => void = () => undefined): { close(): void } {
  // The window being opened or open; `closed` catches a close that comes while it loads.
  let current: { win?: BrowserWindowType; closed: boolean } | undefined;
  const close = () => {
    if (!current) return;
    current.closed = true;
    if (current.win && !current.win.isDestroyed()) current.win.destroy();
    current = undefined;
  };
  child.on('message', (raw: unknown) => {
    const req = GpuWindowRequest.safeParse(raw !== null && typeof raw === 'object' && 'data' in raw ? (raw as { data: unknown }).data : raw);
    if (!req.success) return;
    if (req.data.t === 'gpu:close') {
      close();
      return;
    }
    if (current) return; // one window per node
    const state: { win?: BrowserWindowType; closed: boolean } = { closed: false };
    current = state;
    openGpuWindow(electron, files, req.data.backend).then(
      (opened) => {
        if (state.closed) {
          opened.win.destroy();
          opened.port.close();
          return;
        }
        state.win = opened.win;
        child.postMessage({ t: 'gpu:port' } satisfies GpuWindowAnswer, [opened.port]);
      },
      (err: unknown) => {
        if (current === state) current = undefined;
        const error = `the GPU window could not open: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
        log(error);
        child.postMessage({ t: 'gpu:port', error } satisfies GpuWindowAnswer);
      },
    );
  });
  child.on('exit', close);
  return { close };
}
