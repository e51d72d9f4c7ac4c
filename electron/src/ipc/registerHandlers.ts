import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { apiEvents, apiMethods, type EventName, type MethodName } from '@canopy/core/app/contract';
import { eventChannel, methodChannel } from '@canopy/core/app/contract';
import { decodeArg } from '@canopy/core/app';
import { NodeCallError } from './nodeLink.js';

/** Where calls go once validated: the node link. */
export interface CallTarget {
  call(method: MethodName, arg: unknown): Promise<unknown>;
}

/** The window allowed to talk to the node, and the page it must be showing. */
export interface TrustedWindow {
  webContents(): WebContents | undefined;
  /** The renderer's own URL (file:// of renderer/dist/index.html). */
  readonly pageUrl: string;
}

/** A refused IPC call; the renderer sees `code` and `message`. */
export class IpcRefusedError extends Error {
  constructor(
    readonly code: 'UNTRUSTED_SENDER' | 'BAD_INPUT',
    message: string,
  ) {
    super(message);
    this.name = 'IpcRefusedError';
  }
}

/**
 * Registers one `ipcMain.handle` per request in the contract. Each handler checks that the
 * call comes from our window's main frame showing our page, decodes the argument with the
 * contract's schema, and only then forwards it to the node. Returns the unregister function.
 */
export function registerHandlers(ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>, target: CallTarget, trusted: TrustedWindow): () => void {
  const methods = Object.keys(apiMethods) as MethodName[];
  for (const method of methods) {
    ipcMain.handle(methodChannel(method), async (event: IpcMainInvokeEvent, arg: unknown) => {
      assertTrustedSender(event, trusted);
      const decoded = decodeArg(method, arg);
      if (!decoded.ok) throw new IpcRefusedError('BAD_INPUT', decoded.message);
      try {
        return await target.call(method, decoded.value);
      } catch (err) {
        // Electron passes only the message across; keep the code in it for the renderer.
        if (err instanceof NodeCallError) throw new Error(`${err.code}: ${err.message}`);
        throw err;
      }
    });
  }
  return () => {
    for (const method of methods) ipcMain.removeHandler(methodChannel(method));
  };
}

/** Throws unless the call came from the trusted window's top frame, showing our own page. */
export function assertTrustedSender(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>, trusted: TrustedWindow): void {
  const wc = trusted.webContents();
  const frame = event.senderFrame;
  // A subframe, another window or a page navigated elsewhere must not reach the node.
  if (!wc || event.sender !== wc || !frame || frame.parent !== null || stripHash(frame.url) !== stripHash(trusted.pageUrl)) {
    throw new IpcRefusedError('UNTRUSTED_SENDER', 'IPC call refused: it did not come from the Canopy window');
  }
}

/** Sends each node event to the window on the event's channel, if the window is still there. */
export function forwardEvent(trusted: TrustedWindow, name: EventName, payload: unknown): void {
  if (!Object.hasOwn(apiEvents, name)) return;
  const wc = trusted.webContents();
  if (wc && !wc.isDestroyed()) wc.send(eventChannel(name), payload);
}

function stripHash(url: string): string {
  const i = url.indexOf('#');
  return i < 0 ? url : url.slice(0, i);
}
