import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { WebSocket } from 'ws';
import { startUiServer, type UiServer } from './uiServer.js';
import { createTestNodePort } from './testNodePort.js';
import { CLOSE_BAD_TOKEN, type ServerFrame } from './rpcMessages.js';

let server: UiServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(): Promise<UiServer> {
  const dir = await mkdtemp(join(tmpdir(), 'canopy-ui-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>Canopy</title>');
  server = await startUiServer(await createTestNodePort(), { staticDir: dir, token: 't'.repeat(64) });
  return server;
}

/** Opens a socket, sends `frames`, and collects what comes back until the socket closes or `until` holds. */
function talk(url: string, frames: unknown[], until: (got: ServerFrame[]) => boolean, headers: Record<string, string> = {}): Promise<{ got: ServerFrame[]; code?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const got: ServerFrame[] = [];
    ws.on('open', () => frames.forEach((f) => ws.send(JSON.stringify(f))));
    ws.on('message', (d) => {
      got.push(JSON.parse(String(d)) as ServerFrame);
      if (until(got)) {
        ws.close();
        resolve({ got });
      }
    });
    ws.on('close', (code) => resolve({ got, code }));
    ws.on('error', reject);
  });
}

function get(port: number, path: string, host = `127.0.0.1:${port}`): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += String(c)));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('startUiServer', () => {
  it('listens on 127.0.0.1 only and prints a link with the token in its fragment', async () => {
    const s = await start();
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/#token=${'t'.repeat(64)}`);
  });

  it('refuses a wrong token with a denial and close code 4401, and answers nothing else', async () => {
    const s = await start();
    const { got, code } = await talk(`ws://127.0.0.1:${s.port}/api`, [{ t: 'hello', token: 'wrong' }, { t: 'call', id: 1, method: 'getSnapshot', arg: {} }], () => false);
    expect(code).toBe(CLOSE_BAD_TOKEN);
    expect(got.map((f) => f.t)).toEqual(['denied']);
  });

  it('refuses a call sent before the token', async () => {
    const s = await start();
    const { got, code } = await talk(`ws://127.0.0.1:${s.port}/api`, [{ t: 'call', id: 1, method: 'getSnapshot', arg: {} }], () => false);
    expect(code).toBe(CLOSE_BAD_TOKEN);
    expect(got.map((f) => f.t)).toEqual(['denied']);
  });

  it('serves the contract after the right token, and validates every argument', async () => {
    const s = await start();
    const { got } = await talk(
      `ws://127.0.0.1:${s.port}/api`,
      [
        { t: 'hello', token: s.token },
        { t: 'call', id: 1, method: 'getSnapshot', arg: {} },
        { t: 'call', id: 2, method: 'setLimits', arg: { threads: 0, gpu: 'yes', idleOnly: false } },
        { t: 'call', id: 3, method: 'deleteEverything', arg: {} },
      ],
      (g) => g.filter((f) => f.t === 'result').length === 3,
    );
    expect(got[0]).toMatchObject({ t: 'welcome' });
    const results = new Map(got.flatMap((f) => (f.t === 'result' ? [[f.id, f] as const] : [])));
    expect(results.get(1)).toMatchObject({ ok: true, value: { node: { peerId: '12D3KooWTestPeer' } } });
    expect(results.get(2)).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect((results.get(2) as { error: { message: string } }).error.message).toMatch(/threads/);
    expect(results.get(3)).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: expect.stringMatching(/unknown method/) } });
  });

  it('refuses a WebSocket from another site’s page', async () => {
    const s = await start();
    await expect(talk(`ws://127.0.0.1:${s.port}/api`, [], () => true, { origin: 'https://evil.example' })).rejects.toThrow(/403/);
  });

  it('serves the UI with a strict CSP, and refuses foreign hosts and paths outside its root', async () => {
    const s = await start();
    const page = await get(s.port, '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Canopy</title>');
    expect(String(page.headers['content-security-policy'])).toContain("script-src 'self'");
    expect((await get(s.port, '/', 'attacker.example:80')).status).toBe(421);
    expect((await get(s.port, '/..%2f..%2f..%2fetc%2fpasswd')).status).toBe(403);
  });
});
