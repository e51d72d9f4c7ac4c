import { ipcRenderer, type IpcRendererEvent } from 'electron';

// The GPU window's preload. Sandboxed and context-isolated; it exposes nothing. Its one job is
// to hand the page the port main sent (only main can send on ipcRenderer), by a same-window
// postMessage that the page (renderer/src/gpu/main.ts) accepts only from its own window.
// Bundled to one CommonJS file, because a sandboxed preload can load nothing but `electron`.

const GPU_PORT_CHANNEL = 'canopy:gpu-port';
// The preload's window (electron/ compiles without the DOM library).
const page = globalThis as unknown as { postMessage(message: unknown, targetOrigin: string, transfer: unknown[]): void; location: { origin: string } };

ipcRenderer.on(GPU_PORT_CHANNEL, (e: IpcRendererEvent) => {
  const port = e.ports[0];
  // A file:// page's origin is opaque ('null'), which postMessage cannot name.
  if (port) page.postMessage(GPU_PORT_CHANNEL, page.location.origin === 'null' ? '*' : page.location.origin, [port]);
});
