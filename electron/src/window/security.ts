import type { BrowserWindowConstructorOptions, Session, WebContents } from 'electron';
import { contentSecurityPolicy } from '@canopy/core/app';

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

/**
 * Applies the strict CSP to every response and refuses every permission (camera,
 * notifications…). `wasmPages` (the GPU window) may also compile WebAssembly, for tfjs's
 * wasm fallback; nothing may run inline or eval anywhere.
 */
export function hardenSession(session: Session, { wasmPages = [] }: { wasmPages?: readonly string[] } = {}): void {
  const csp = contentSecurityPolicy();
  const wasmCsp = csp.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'");
  session.webRequest.onHeadersReceived((details, callback) => {
    const policy = wasmPages.includes(details.url.split(/[?#]/)[0]!) ? wasmCsp : csp;
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [policy] } });
  });
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}
