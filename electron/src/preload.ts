import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { eventChannel, methodChannel } from '@canopy/core/app/contract';
import type { CanopyApi, EventName, EventPayload, MethodArg, MethodName, MethodResult } from '@canopy/core/app/contract';

// The renderer's only door to the node. Sandboxed and context-isolated: it exposes one
// named function per contract channel, never a generic `send(channel)`, so a compromised
// page can call exactly these and nothing else. Bundled to one CommonJS file, because a
// sandboxed preload can load nothing but `electron`.

function invoke<M extends MethodName>(method: M, arg: MethodArg<M>): Promise<MethodResult<M>> {
  return ipcRenderer.invoke(methodChannel(method), arg) as Promise<MethodResult<M>>;
}

function subscribe<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
  // The IpcRendererEvent stays here: handing it to the page would leak `sender`.
  const wrapped = (_e: IpcRendererEvent, payload: EventPayload<E>) => listener(payload);
  ipcRenderer.on(eventChannel(event), wrapped);
  return () => void ipcRenderer.removeListener(eventChannel(event), wrapped);
}

const api = {
  getSnapshot: (arg: MethodArg<'getSnapshot'>) => invoke('getSnapshot', arg),
  setRoles: (arg: MethodArg<'setRoles'>) => invoke('setRoles', arg),
  setLimits: (arg: MethodArg<'setLimits'>) => invoke('setLimits', arg),
  pinBackend: (arg: MethodArg<'pinBackend'>) => invoke('pinBackend', arg),
  respondInvitation: (arg: MethodArg<'respondInvitation'>) => invoke('respondInvitation', arg),
  decideConsent: (arg: MethodArg<'decideConsent'>) => invoke('decideConsent', arg),
  previewDataset: (arg: MethodArg<'previewDataset'>) => invoke('previewDataset', arg),
  revokeReceipt: (arg: MethodArg<'revokeReceipt'>) => invoke('revokeReceipt', arg),
  joinNetwork: (arg: MethodArg<'joinNetwork'>) => invoke('joinNetwork', arg),
  onNode: (l: (p: EventPayload<'node'>) => void) => subscribe('node', l),
  onInvitation: (l: (p: EventPayload<'invitation'>) => void) => subscribe('invitation', l),
  onConsentPrompt: (l: (p: EventPayload<'consentPrompt'>) => void) => subscribe('consentPrompt', l),
  onConsentClosed: (l: (p: EventPayload<'consentClosed'>) => void) => subscribe('consentClosed', l),
  onReceipt: (l: (p: EventPayload<'receipt'>) => void) => subscribe('receipt', l),
  onTraining: (l: (p: EventPayload<'training'>) => void) => subscribe('training', l),
  onMetric: (l: (p: EventPayload<'metric'>) => void) => subscribe('metric', l),
  onProgress: (l: (p: EventPayload<'progress'>) => void) => subscribe('progress', l),
  onOutbox: (l: (p: EventPayload<'outbox'>) => void) => subscribe('outbox', l),
  onLog: (l: (p: EventPayload<'log'>) => void) => subscribe('log', l),
} satisfies CanopyApi;

/** `window.api` as the renderer sees it; derived from what the preload really exposes. */
export type PreloadApi = typeof api;


contextBridge.exposeInMainWorld('api', api);
