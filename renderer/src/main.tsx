import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { ConnectScreen } from './components/ConnectScreen';
import { StoreProvider } from './store/StoreContext';
import { createAppStore } from './store/appStore';
import { bindApi } from './store/bindApi';
import { connectBridge, TokenRefusedError } from './api/browserBridge';
import type { Api } from './api/types';
import './styles.css';

declare global {
  interface Window {
    /** Set by Electron's preload; absent in a browser. */
    api?: Api;
  }
}

const store = createAppStore();

/** Reads the token from `#token=…` and removes it from the address bar and history. */
function takeToken(): string | undefined {
  const m = /token=([0-9a-zA-Z_-]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem('canopy-token', m[1]!);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem('canopy-token') ?? undefined;
}

function Root() {
  const [token, setToken] = useState(() => (window.api ? undefined : takeToken()));
  const [refused, setRefused] = useState<string | undefined>();
  const [ready, setReady] = useState(false);
  useEffect(() => {
    let unbind: (() => void) | undefined;
    let cancelled = false;
    const start = async () => {
      if (window.api) {
        unbind = await bindApi(store, window.api);
      } else {
        if (!token) return;
        const bridge = await connectBridge(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api`, token);
        if (cancelled) return bridge.close();
        bridge.onClose((reason) => store.getState().setConnection({ state: 'closed', reason }));
        unbind = await bindApi(store, bridge.api);
      }
      setReady(true);
    };
    start().catch((err: unknown) => {
      if (err instanceof TokenRefusedError) {
        sessionStorage.removeItem('canopy-token');
        setRefused('The node refused this token. Use the link printed by the most recent `canopy node --ui`.');
        setToken(undefined);
      } else {
        store.getState().setConnection({ state: 'closed', reason: err instanceof Error ? err.message : String(err) });
        setReady(true);
      }
    });
    return () => {
      cancelled = true;
      unbind?.();
    };
  }, [token]);
  if (!window.api && !token) return <ConnectScreen reason={refused} onToken={(t) => (setRefused(undefined), setToken(t))} />;
  if (!ready) return <div className="splash">Connecting to your node…</div>;
  return (
    <StoreProvider store={store}>
      <App />
    </StoreProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
