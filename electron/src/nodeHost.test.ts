import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { ServerFrame } from '@canopy/core/app/contract';
import { hostNode, type HostedNode } from './nodeHost.js';

// The utility process's side of the app: a real node behind the parent port, as Electron's
// main process talks to it. Only the port is stood in (Electron's utilityProcess provides it).
class FakeParentPort extends EventEmitter {
  readonly sent: ServerFrame[] = [];
  /** Messages for main itself (the GPU window, the owner-activity watch), not the UI. */
  readonly toMain: unknown[] = [];
  on(event: 'message', listener: (e: { data: unknown }) => void): this {
    return super.on(event, listener);
  }
  postMessage(message: unknown): void {
    const frame = ServerFrame.safeParse(message);
    if (frame.success) this.sent.push(frame.data);
    else this.toMain.push(message);
  }
  send(data: unknown): void {
    this.emit('message', { data });
  }
  async result(id: number): Promise<Extract<ServerFrame, { t: 'result' }>> {
    for (let i = 0; i < 500; i++) {
      const r = this.sent.find((f): f is Extract<ServerFrame, { t: 'result' }> => f.t === 'result' && f.id === id);
      if (r) return r;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no result for call ${id}`);
  }
}

describe('hostNode (the utility process)', () => {
  let hosted: HostedNode | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await hosted?.stop();
    hosted = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts the node with the owner’s saved settings, serves the contract, and keeps changes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'canopy-host-'));
    await writeFile(join(dir, 'app-settings.json'), JSON.stringify({ v: 1, roles: { client: true, worker: false }, limits: { threads: 2, gpu: false, idleOnly: false }, backend: 'cpu' }));
    const port = new FakeParentPort();
    hosted = await hostNode(port, dir, { listen: ['/ip4/127.0.0.1/tcp/0'], echoLog: false });

    port.send({ t: 'call', id: 1, method: 'getSnapshot', arg: {} });
    const snap = await port.result(1);
    expect(snap.ok).toBe(true);
    const node = (snap as { value: { node: { roles: unknown; limits: unknown; backend: { pinned: string }; addresses: string[] } } }).value.node;
    expect(node.roles).toEqual({ client: true, worker: false });
    expect(node.limits).toEqual({ threads: 2, gpu: false, idleOnly: false });
    expect(node.backend.pinned).toBe('cpu');
    expect(node.addresses[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);

    // Malformed frames are dropped; a bad argument gets a clear error, not a crash.
    port.send('garbage');
    port.send({ t: 'call', id: 'x', method: 'getSnapshot' });
    port.send({ t: 'call', id: 2, method: 'setLimits', arg: { threads: 0, gpu: true, idleOnly: false } });
    const bad = await port.result(2);
    expect(bad.ok).toBe(false);

    port.send({ t: 'call', id: 3, method: 'setLimits', arg: { threads: 3, gpu: true, idleOnly: true } });
    expect((await port.result(3)).ok).toBe(true);
    const saved = JSON.parse(await readFile(join(dir, 'app-settings.json'), 'utf8')) as { limits: unknown };
    expect(saved.limits).toEqual({ threads: 3, gpu: true, idleOnly: true });
    // Turning on "only while idle" asks main to watch the owner's activity.
    expect(port.toMain).toEqual([{ t: 'idle:watch', on: true }]);
  }, 60_000);
});
