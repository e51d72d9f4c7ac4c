import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { probeBackends } from '@canopy/core/app';
import { mlCompute } from '@canopy/core/compute';
import type { PortReady } from '@canopy/core/compute';
import { GPU_PORT_CHANNEL } from './gpuMessages.js';
import { relayGpuWindow, type GpuElectron } from './gpuWindow.js';
import { connectGpuWindow, type GpuParentPort } from './connectGpuWindow.js';

// Main's and the node host's GPU-window wiring, in Node. Only Electron's classes are stood
// in (BrowserWindow, MessageChannelMain, the utility process and its parent port); the
// relay, the security settings, the port protocol and the backend choice run for real. The
// real page is driven in test/ui/gpuTrainer.e2e.ts.

const files = { page: '/opt/Canopy/renderer/dist/gpu.html', preload: '/opt/Canopy/electron/dist/gpuPreload.cjs' };

class FakeWebContents extends EventEmitter {
  openHandler: (() => { action: string }) | undefined;
  readonly posted: { channel: string; message: unknown; ports: unknown[] }[] = [];
  setWindowOpenHandler(h: () => { action: string }) {
    this.openHandler = h;
  }
  postMessage(channel: string, message: unknown, ports: unknown[]) {
    this.posted.push({ channel, message, ports });
  }
}

function fakeElectron(opts: { failLoad?: boolean } = {}) {
  const windows: FakeWindow[] = [];
  class FakeWindow {
    readonly webContents = new FakeWebContents();
    readonly loaded: { file: string; options: unknown }[] = [];
    destroyed = false;
    constructor(readonly options: Record<string, unknown>) {
      windows.push(this);
    }
    loadFile(file: string, options: unknown) {
      this.loaded.push({ file, options });
      return opts.failLoad ? Promise.reject(new Error('ERR_FILE_NOT_FOUND')) : Promise.resolve();
    }
    isDestroyed() {
      return this.destroyed;
    }
    destroy() {
      this.destroyed = true;
    }
  }
  class FakeChannel {
    readonly port1 = { end: 'window', close: () => undefined };
    readonly port2 = { end: 'node', close: () => undefined };
  }
  return { windows, electron: { BrowserWindow: FakeWindow, MessageChannelMain: FakeChannel } as unknown as GpuElectron };
}

class FakeChild extends EventEmitter {
  readonly sent: { message: unknown; transfer?: unknown[] }[] = [];
  postMessage(message: unknown, transfer?: unknown[]) {
    this.sent.push({ message, ...(transfer ? { transfer } : {}) });
  }
  request(data: unknown) {
    this.emit('message', { data });
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('main: the hidden GPU window', () => {
  it('opens hidden, sandboxed and hardened, and hands one port to the page and the other to the node', async () => {
    const { windows, electron } = fakeElectron();
    const child = new FakeChild();
    relayGpuWindow(child as never, electron, files);
    child.request({ t: 'gpu:open', backend: 'webgl' });
    await vi.waitFor(() => expect(child.sent).toHaveLength(1));
    const [win] = windows;
    expect(win!.options).toMatchObject({ show: false, webPreferences: { preload: files.preload, sandbox: true, contextIsolation: true, nodeIntegration: false, webviewTag: false } });
    expect(win!.loaded).toEqual([{ file: files.page, options: { query: { backend: 'webgl' } } }]);
    expect(win!.webContents.openHandler!()).toEqual({ action: 'deny' });
    const away = { preventDefault: vi.fn() };
    win!.webContents.emit('will-navigate', away, 'https://example.com/');
    expect(away.preventDefault).toHaveBeenCalled();
    expect(win!.webContents.posted).toEqual([{ channel: GPU_PORT_CHANNEL, message: null, ports: [expect.objectContaining({ end: 'window' })] }]);
    expect(child.sent).toEqual([{ message: { t: 'gpu:port' }, transfer: [expect.objectContaining({ end: 'node' })] }]);
  });

  it('ignores malformed requests and a second open; closes on request and when the node exits', async () => {
    const { windows, electron } = fakeElectron();
    const child = new FakeChild();
    relayGpuWindow(child as never, electron, files);
    for (const bad of ['junk', { t: 'gpu:open', backend: 'cuda' }, { t: 'gpu:open' }, { t: 'gpu:open', backend: 'auto', extra: 1 }]) child.request(bad);
    await settle();
    expect(windows).toHaveLength(0);
    child.request({ t: 'gpu:open', backend: 'auto' });
    await vi.waitFor(() => expect(child.sent).toHaveLength(1));
    child.request({ t: 'gpu:open', backend: 'auto' });
    await settle();
    expect(windows).toHaveLength(1);
    child.request({ t: 'gpu:close' });
    expect(windows[0]!.destroyed).toBe(true);
    // A close that comes while the page loads still closes it.
    child.request({ t: 'gpu:open', backend: 'auto' });
    child.emit('exit', 0);
    await settle();
    expect(windows).toHaveLength(2);
    expect(windows[1]!.destroyed).toBe(true);
    expect(child.sent).toHaveLength(1);
  });

  it('tells the node why when the page cannot load', async () => {
    const { electron } = fakeElectron({ failLoad: true });
    const child = new FakeChild();
    relayGpuWindow(child as never, electron, files);
    child.request({ t: 'gpu:open', backend: 'auto' });
    await vi.waitFor(() => expect(child.sent).toHaveLength(1));
    expect(child.sent[0]).toEqual({ message: { t: 'gpu:port', error: 'the GPU window could not open: ERR_FILE_NOT_FOUND' } });
  });
});

/** A utility process's parent port whose main answers 'gpu:open' with a port to `window`. */
class FakeParentPort extends EventEmitter implements GpuParentPort {
  readonly sent: unknown[] = [];
  constructor(private readonly answer: (send: (data: unknown, ports?: unknown[]) => void) => void) {
    super();
  }
  override on(event: 'message', listener: (e: { data: unknown; ports?: never[] }) => void): this {
    return super.on(event, listener);
  }
  postMessage(message: unknown) {
    this.sent.push(message);
    if ((message as { t?: string }).t === 'gpu:open') this.answer((data, ports) => this.emit('message', { data, ports }));
  }
}

/** Node's MessagePort in the shape of Electron's MessagePortMain ({ data } events). */
function asMainPort(p: MessagePort) {
  return {
    on: (event: string, l: (e?: unknown) => void) => (event === 'message' ? p.on('message', (data) => l({ data })) : p.on('close', () => l())),
    postMessage: (m: unknown) => p.postMessage(m),
    start: () => undefined,
    close: () => p.close(),
  };
}

const report = (webgl: PortReady['webgl'], backend: string): PortReady => ({ type: 'ready', v: 1, backend, webgpu: { available: false, reason: 'no adapter' }, webgl });

describe('node host: connecting to the GPU window', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
  });
  const windowReporting = (ready: PortReady) => (send: (data: unknown, ports?: unknown[]) => void) => {
    const { port1, port2 } = new MessageChannel();
    port2.postMessage(ready);
    stops.push(async () => port2.close());
    send({ t: 'gpu:port' }, [asMainPort(port1)]);
  };
  const settings = (backend: string, gpu = true) => ({ backend: backend as 'auto', limits: { threads: 1, gpu, idleOnly: false } });

  const cases = [
    { name: 'the GPU switched off', settings: settings('auto', false), missing: /switched off in Limits/ },
    { name: 'a CPU pin', settings: settings('wasm'), missing: /pinned wasm/ },
  ];
  for (const c of cases) {
    it(`asks for no window with ${c.name}`, async () => {
      const parent = new FakeParentPort(() => undefined);
      const r = await connectGpuWindow(parent, c.settings, { fallback: () => mlCompute({ backend: 'wasm' }) });
      expect(r.compute, c.name).toBeUndefined();
      expect('missing' in r.report && r.report.missing, c.name).toMatch(c.missing);
      expect(parent.sent, c.name).toEqual([]);
    });
  }

  it('trains in the window when it reports a hardware GPU', async () => {
    const parent = new FakeParentPort(windowReporting(report({ available: true, device: 'NVIDIA GeForce RTX 4070' }, 'webgl')));
    const r = await connectGpuWindow(parent, settings('auto'), { fallback: () => mlCompute({ backend: 'wasm' }) });
    expect(r.compute).toBeDefined();
    stops.push(() => r.compute!.stop());
    expect(parent.sent).toEqual([{ t: 'gpu:open', backend: 'auto' }]);
    expect(probeBackends(r.report).find((c) => c.name === 'webgl')).toEqual({ name: 'webgl', available: true });
  });

  it('does not train on a software renderer: closes the window and says why', async () => {
    const parent = new FakeParentPort(windowReporting(report({ available: true, device: 'SwiftShader', software: true }, 'wasm')));
    const r = await connectGpuWindow(parent, settings('webgl'), { fallback: () => mlCompute({ backend: 'wasm' }) });
    expect(r.compute).toBeUndefined();
    expect(parent.sent).toEqual([{ t: 'gpu:open', backend: 'webgl' }, { t: 'gpu:close' }]);
    expect(probeBackends(r.report).find((c) => c.name === 'webgl')).toEqual({ name: 'webgl', available: false, reason: 'only a software renderer (SwiftShader), no faster than wasm' });
  });

  it('says why when main could not open the window', async () => {
    const parent = new FakeParentPort((send) => send({ t: 'gpu:port', error: 'the GPU window could not open: ERR_FILE_NOT_FOUND' }));
    const r = await connectGpuWindow(parent, settings('auto'), { fallback: () => mlCompute({ backend: 'wasm' }) });
    expect(r.compute).toBeUndefined();
    expect(r.report).toEqual({ missing: 'the GPU window could not open: ERR_FILE_NOT_FOUND' });
  });
});
