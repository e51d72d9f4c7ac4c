import type { BrowserWindowConstructorOptions, Session, WebContents } from 'electron';
import { contentSecurityPolicy } from '@canopy/core/node/appApi/staticFiles';

/** The window's web preferences: isolated, sandboxed, no Node in the page, only our preload. */
export function secureWebPreferences(preload: string): NonNullable<BrowserWindowConstructorOptions['webPreferences']> {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
    navigateOnDragDrop: false,
  };
}

/**
 * Denies everything a page could use to leave the app: new windows, navigation away from
 * our page, webviews. Links the owner clicks are not opened either; the UI has none that
 * leave it.
 */
export function hardenWebContents(wc: WebContents, pageUrl: string): void {
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  const stay = (event: { preventDefault(): void }, url: string) => {
    if (url.split('#')[0] !== pageUrl.split('#')[0]) event.preventDefault();
  };
  wc.on('will-navigate', stay);
  wc.on('will-redirect', stay);
  wc.on('will-attach-webview', (event) => event.preventDefault());
}

/** Applies the strict CSP to every response and refuses every permission (camera, notifications…). */
export function hardenSession(session: Session): void {
  const csp = contentSecurityPolicy();
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}
