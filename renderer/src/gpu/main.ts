import { gpuPreferences, selectGpuBackend, type GpuPreference } from './gpuBackend.js';
import { serveGpuTasks } from './serveGpuTasks.js';
import type { PortReady } from '@canopy/core/compute/port';

// The desktop app's hidden GPU window: it starts tfjs on WebGPU or WebGL (else wasm, else
// cpu), then trains for the node over the MessagePort that main hands its preload. The
// preference comes in the page's query (?backend=webgl), set by main from the owner's pin.

/** The message the preload forwards the node's port with (window.postMessage, same window). */
export const GPU_PORT_MESSAGE = 'canopy:gpu-port';

function preference(): GpuPreference {
  const asked = new URLSearchParams(location.search).get('backend') ?? 'auto';
  return (gpuPreferences as readonly string[]).includes(asked) ? (asked as GpuPreference) : 'auto';
}

function show(status: string, detail: string): void {
  document.body.dataset.status = status;
  const el = document.getElementById('status');
  if (el) el.textContent = detail;
}

const backend = selectGpuBackend(preference());
const port = new Promise<MessagePort>((resolve) => {
  window.addEventListener('message', (e: MessageEvent) => {
    // Only our own preload's message (same window) carries the port; anything else is ignored.
    if (e.source === window && e.data === GPU_PORT_MESSAGE && e.ports[0]) resolve(e.ports[0]);
  });
});

backend.then(
  async (r) => {
    document.body.dataset.backend = r.backend;
    show('ready', `training on ${r.backend}${r.reason ? ` (${r.reason})` : ''}`);
    const ready: PortReady = { type: 'ready', v: 1, backend: r.backend, ...(r.reason ? { reason: r.reason } : {}), webgpu: r.webgpu, webgl: r.webgl };
    serveGpuTasks(await port, ready, r.info);
    show('serving', `training on ${r.backend} for the node`);
  },
  (err: unknown) => show('failed', err instanceof Error ? err.message : String(err)),
);
