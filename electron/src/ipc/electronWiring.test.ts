import { beforeEach, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import { apiEvents, apiMethods } from '@canopy/core/app/contract';
import { eventChannel, methodChannel } from '@canopy/core/app/contract';

// Only the `electron` module is stood in: ipcMain, ipcRenderer and contextBridge record what
// our code registers, and the rest of the wiring runs for real.
const exposed = new Map<string, Record<string, (...a: unknown[]) => unknown>>();
const invoked: { channel: string; arg: unknown }[] = [];
const rendererListeners = new EventEmitter();
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: Record<string, (...a: unknown[]) => unknown>) => exposed.set(key, api) },
  ipcRenderer: {
    invoke: async (channel: string, arg: unknown) => void invoked.push({ channel, arg }),
    on: (ch: string, l: (...a: unknown[]) => void) => rendererListeners.on(ch, l),
    removeListener: (ch: string, l: (...a: unknown[]) => void) => rendererListeners.removeListener(ch, l),
  },
}));

const { registerHandlers, forwardEvent } = await import('./registerHandlers.js');
const { NodeLink } = await import('./nodeLink.js');
const { hardenWebContents, secureWebPreferences } = await import('../window/security.js');

const pageUrl = 'file:///opt/Canopy/renderer/dist/index.html';

function fakeIpcMain() {
  const handlers = new Map<string, (event: unknown, arg: unknown) => Promise<unknown>>();
  return { handlers, handle: (ch: string, h: (e: unknown, a: unknown) => Promise<unknown>) => void handlers.set(ch, h), removeHandler: (ch: string) => void handlers.delete(ch) };
}

function fakeWebContents() {
  const sent: { channel: string; payload: unknown }[] = [];
  return Object.assign(new EventEmitter(), { sent, isDestroyed: () => false, send: (channel: string, payload: unknown) => void sent.push({ channel, payload }), setWindowOpenHandler: vi.fn() });
}

describe('main process IPC wiring', () => {
  let wc: ReturnType<typeof fakeWebContents>;
  let ipc: ReturnType<typeof fakeIpcMain>;
  let calls: { method: string; arg: unknown }[];
  beforeEach(() => {
    wc = fakeWebContents();
    ipc = fakeIpcMain();
    calls = [];
    registerHandlers(ipc, { call: async (method, arg) => (calls.push({ method, arg }), { ok: method }) }, { webContents: () => wc as never, pageUrl });
  });
  const fromWindow = { sender: undefined as unknown, senderFrame: { url: `${pageUrl}#x`, parent: null } };

  it('registers exactly one handler per request of the contract', () => {
    expect([...ipc.handlers.keys()].sort()).toEqual(Object.keys(apiMethods).map(methodChannel).sort());
  });

  it('forwards a valid call from our window, decoded (defaults applied)', async () => {
    const h = ipc.handlers.get(methodChannel('previewDataset'))!;
    await expect(h({ ...fromWindow, sender: wc }, { source: { kind: 'mnist' } })).resolves.toEqual({ ok: 'previewDataset' });
    expect(calls).toEqual([{ method: 'previewDataset', arg: { source: { kind: 'mnist', testFraction: 0.2 } } }]);
  });

  it.each([
    ['another window', { sender: {}, senderFrame: { url: pageUrl, parent: null } }],
    ['a subframe', { sender: 'wc', senderFrame: { url: pageUrl, parent: {} } }],
    ['another page', { sender: 'wc', senderFrame: { url: 'https://evil.example/', parent: null } }],
    ['no frame', { sender: 'wc', senderFrame: null }],
  ])('refuses a call from %s without reaching the node', async (_name, event) => {
    const e = { ...event, sender: event.sender === 'wc' ? wc : event.sender };
    await expect(ipc.handlers.get(methodChannel('getSnapshot'))!(e, {})).rejects.toThrow(/did not come from the Canopy window/);
    expect(calls).toEqual([]);
  });

  it.each([
    ['setLimits', { threads: 0, gpu: true, idleOnly: false }],
    ['setRoles', { client: 'yes', worker: true }],
    ['respondInvitation', { id: 'x', accept: true, extra: 1 }],
    ['decideConsent', { id: '', approve: true }],
    ['pinBackend', { choice: 'quantum' }],
  ])('refuses a malformed %s argument without reaching the node', async (method, arg) => {
    await expect(ipc.handlers.get(methodChannel(method))!({ ...fromWindow, sender: wc }, arg)).rejects.toThrow(/BAD_INPUT|: /);
    expect(calls).toEqual([]);
  });

  it('sends node events to the window on their own channels only', () => {
    forwardEvent({ webContents: () => wc as never, pageUrl }, 'metric', { round: 1 });
    forwardEvent({ webContents: () => wc as never, pageUrl }, 'notAnEvent' as never, {});
    expect(wc.sent).toEqual([{ channel: eventChannel('metric'), payload: { round: 1 } }]);
  });
});

describe('NodeLink (main ↔ utility process)', () => {
  it('pairs results with calls, passes events on, and fails pending calls when the node exits', async () => {
    const port = Object.assign(new EventEmitter(), { posted: [] as unknown[], postMessage(m: unknown) { this.posted.push(m); } });
    const events: unknown[] = [];
    const link = new NodeLink(port, (name, payload) => events.push({ name, payload }));
    const a = link.call('getSnapshot', {});
    const b = link.call('setRoles', { client: true, worker: true });
    port.emit('message', { data: { t: 'result', id: 2, ok: false, error: { code: 'BAD_INPUT', message: 'nope' } } });
    port.emit('message', { data: { t: 'result', id: 1, ok: true, value: 42 } });
    port.emit('message', { data: { t: 'event', name: 'log', payload: { msg: 'hi' } } });
    await expect(a).resolves.toBe(42);
    await expect(b).rejects.toThrow('nope');
    expect(events).toEqual([{ name: 'log', payload: { msg: 'hi' } }]);
    const c = link.call('getSnapshot', {});
    port.emit('exit', 1);
    await expect(c).rejects.toThrow(/exited/);
  });
});

describe('preload', () => {
  it('exposes one named function per channel and each uses its own channel', async () => {
    await import('../preload.js');
    const api = exposed.get('api')!;
    const names = Object.keys(api).sort();
    const expected = [...Object.keys(apiMethods), ...Object.keys(apiEvents).map((e) => `on${e[0]!.toUpperCase()}${e.slice(1)}`)].sort();
    expect(names).toEqual(expected);
    for (const m of Object.keys(apiMethods)) await api[m]!({ probe: m });
    expect(invoked.map((c) => c.channel)).toEqual(Object.keys(apiMethods).map(methodChannel));
    const got: unknown[] = [];
    const off = api.onMetric!((p: unknown) => got.push(p)) as () => void;
    rendererListeners.emit(eventChannel('metric'), { sender: 'secret' }, { round: 3 });
    off();
    rendererListeners.emit(eventChannel('metric'), {}, { round: 4 });
    expect(got).toEqual([{ round: 3 }]);
  });
});

describe('window hardening', () => {
  it('turns isolation and the sandbox on and Node off', () => {
    expect(secureWebPreferences('/p.cjs')).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false, preload: '/p.cjs' });
  });

  it('denies new windows and navigation away from our page', () => {
    const wc = fakeWebContents();
    hardenWebContents(wc as never, pageUrl);
    expect(wc.setWindowOpenHandler.mock.calls[0]![0]()).toEqual({ action: 'deny' });
    const away = { preventDefault: vi.fn() };
    wc.emit('will-navigate', away, 'https://evil.example/');
    expect(away.preventDefault).toHaveBeenCalled();
    const same = { preventDefault: vi.fn() };
    wc.emit('will-navigate', same, `${pageUrl}#consent`);
    expect(same.preventDefault).not.toHaveBeenCalled();
  });
});
