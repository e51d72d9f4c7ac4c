import type { MessagePortMain } from 'electron';
import type { AppSettings } from '@canopy/core/app';
import { probeBackends, type GpuWindowReport } from '@canopy/core/app';
import { selectBackend } from '@canopy/core/app';
import type { ComputeBackend } from '@canopy/core/compute';
import { portCompute, type PortCompute, type TaskPort } from '@canopy/core/compute';
import { GpuWindowAnswer, type GpuWindowBackend, type GpuWindowRequest } from './gpuMessages.js';

/** The utility process's parent port, as the GPU hand-shake uses it. */
export interface GpuParentPort {
  on(event: 'message', listener: (e: { data: unknown; ports?: readonly MessagePortMain[] }) => void): void;
  postMessage(message: unknown): void;
}

/** Options of {@link connectGpuWindow}. */
export interface ConnectGpuInit {
  /** What trains when the window does not (and aggregates always). */
  readonly fallback: () => ComputeBackend;
  /** How long to wait for the window to open and report. Default 30 s (it trains a test batch first). */
  readonly waitMs?: number;
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** A port of Electron's (MessagePortMain) as portCompute uses it. */
export function electronTaskPort(port: Pick<MessagePortMain, 'on' | 'postMessage' | 'start' | 'close'>): TaskPort {
  const p = port as unknown as { on(event: string, l: (e: { data: unknown }) => void): void };
  const taskPort: TaskPort = {
    post: (m) => port.postMessage(m),
    onMessage: (l) => p.on('message', (e) => l(e.data)),
    onClose: (l) => p.on('close', () => l()),
    close: () => port.close(),
  };
  port.start();
  return taskPort;
}

/**
 * The node host's side of GPU training. When the owner's pin and limits allow a GPU backend,
 * it asks main for the hidden GPU window, waits for the window's report, and returns a
 * compute that trains there if the choice (selectBackend over what the window found) is
 * WebGPU or WebGL and the window runs exactly that. Otherwise it tells main to close the
 * window and says why in the report, which the Node screen shows.
 */
export async function connectGpuWindow(parent: GpuParentPort, settings: Pick<AppSettings, 'backend' | 'limits'>, init: ConnectGpuInit): Promise<{ compute?: PortCompute; report: GpuWindowReport }> {
  const wanted = settings.backend === 'auto' || settings.backend === 'webgpu' || settings.backend === 'webgl' ? (settings.backend as GpuWindowBackend) : undefined;
  if (!settings.limits.gpu) return { report: { missing: 'the GPU is switched off in Limits' } };
  if (!wanted) return { report: { missing: `not started: the owner pinned ${settings.backend}` } };
  const waitMs = init.waitMs ?? 30_000;
  const answer = new Promise<{ error?: string; port?: MessagePortMain }>((resolve) => {
    parent.on('message', (e) => {
      const a = GpuWindowAnswer.safeParse(e.data);
      if (a.success) resolve({ ...(a.data.error ? { error: a.data.error } : {}), ...(e.ports?.[0] ? { port: e.ports[0] } : {}) });
    });
  });
  const request = (r: GpuWindowRequest) => parent.postMessage(r);
  request({ t: 'gpu:open', backend: wanted });
  const opened = await within(answer, waitMs);
  if (!opened) return { report: { missing: `the GPU window did not open within ${waitMs / 1000} s` } };
  if (!opened.port) return { report: { missing: opened.error ?? 'main sent no port for the GPU window' } };

  const compute = portCompute({
    port: electronTaskPort(opened.port),
    fallback: init.fallback(),
    onLost: (why) => init.log?.('the GPU window was lost; training continues on the CPU', { why }),
    onMalformed: (why) => init.log?.('dropped a message from the GPU window', { why }),
  });
  const ready = await within(compute.ready, waitMs).catch(() => undefined);
  // The node will not train there: free the window and its GPU context.
  const giveUp = async () => {
    await compute.stop();
    request({ t: 'gpu:close' });
  };
  if (!ready) {
    await giveUp();
    return { report: { missing: `the GPU window did not report a backend within ${waitMs / 1000} s` } };
  }
  const report: GpuWindowReport = { webgpu: ready.webgpu, webgl: ready.webgl };
  const chosen = selectBackend(probeBackends(report), settings.backend, settings.limits.gpu);
  init.log?.('GPU window ready', { backend: ready.backend, chosen: chosen.active, ...(ready.reason ? { reason: ready.reason } : {}) });
  if ((chosen.active === 'webgpu' || chosen.active === 'webgl') && ready.backend === chosen.active) return { compute, report };
  await giveUp();
  return { report };
}

/** Resolves with `p`, or undefined once `ms` have passed (the timer does not hold the process). */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(undefined), ms);
    t.unref?.();
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}
