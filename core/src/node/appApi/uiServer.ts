import { createServer, type IncomingMessage } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { AppApi, type AppApiInit } from './appApi.js';
import type { NodePort } from './nodePort.js';
import { serveApi } from './serveApi.js';
import { CLOSE_BAD_TOKEN, ClientFrame, type ServerFrame } from './rpcMessages.js';
import { contentSecurityPolicy, createStaticHandler } from './staticFiles.js';

/** Options of {@link startUiServer}; every field has a default. */
export interface UiServerInit {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** The access token; default 32 random bytes, hex. */
  readonly token?: string;
  /** The built renderer; default `renderer/dist` of the installed @canopy/renderer. */
  readonly staticDir?: string;
  /** Options of the app API over the node. */
  readonly app?: AppApiInit;
  /** How long a socket may stay silent before it must send its token. Default 10 s. */
  readonly helloTimeoutMs?: number;
}

/** A running UI server. Open `url` in a browser; the token is in its fragment, which never reaches the network. */
export interface UiServer {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly api: AppApi;
  stop(): Promise<void>;
}

/**
 * Serves the Canopy UI for a running node on 127.0.0.1 only (`canopy node --ui`): the built
 * renderer over HTTP, and the app contract over a WebSocket at `/api` that answers only after
 * the client sends the random token printed at start. It is the same contract Electron's
 * preload exposes, so one renderer serves both.
 */
export async function startUiServer(node: NodePort, init: UiServerInit = {}): Promise<UiServer> {
  const token = init.token ?? randomBytes(32).toString('hex');
  const api = new AppApi(node, init.app);
  const http = createServer();
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(init.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const origins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  const serveStatic = createStaticHandler(init.staticDir ?? defaultStaticDir(), contentSecurityPolicy([`ws://127.0.0.1:${port}`, `ws://localhost:${port}`]));
  http.on('request', (req, res) => {
    // A foreign Host header means DNS rebinding: some other site resolved its name to us.
    if (!hostAllowed(req, port)) {
      res.writeHead(421).end('misdirected request');
      return;
    }
    void serveStatic(req, res).catch(() => res.writeHead(500).end());
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  http.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    // Browsers always send Origin on WebSockets; another site's page must not reach the node.
    if (path !== '/api' || !hostAllowed(req, port) || (req.headers.origin !== undefined && !origins.has(req.headers.origin))) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws));
  });

  const accept = (ws: WebSocket): void => {
    const send = (frame: ServerFrame): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
    };
    let session: ReturnType<typeof serveApi> | undefined;
    const helloTimer = setTimeout(() => ws.close(CLOSE_BAD_TOKEN, 'no token'), init.helloTimeoutMs ?? 10_000);
    ws.on('message', (data) => {
      let frame: ClientFrame;
      try {
        frame = ClientFrame.parse(JSON.parse(String(data)));
      } catch {
        ws.close(1003, 'malformed frame');
        return;
      }
      if (!session) {
        clearTimeout(helloTimer);
        if (frame.t !== 'hello' || !sameToken(frame.token, token)) {
          send({ t: 'denied', reason: 'wrong access token: use the link printed by `canopy node --ui`' });
          ws.close(CLOSE_BAD_TOKEN, 'wrong token');
          return;
        }
        session = serveApi(api, send);
        send({ t: 'welcome', version: node.version });
        return;
      }
      if (frame.t === 'call') void session.call(frame);
    });
    ws.on('close', () => {
      clearTimeout(helloTimer);
      session?.close();
    });
  };

  return {
    url: `http://127.0.0.1:${port}/#token=${token}`,
    port,
    token,
    api,
    async stop() {
      api.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
    },
  };
}

function hostAllowed(req: IncomingMessage, port: number): boolean {
  return req.headers.host === `127.0.0.1:${port}` || req.headers.host === `localhost:${port}`;
}

/** Compares in constant time, so the token cannot be guessed byte by byte from timings. */
function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function defaultStaticDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@canopy/renderer/package.json')), 'dist');
  } catch {
    return join(process.cwd(), 'renderer', 'dist');
  }
}
