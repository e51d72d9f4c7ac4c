import { afterEach, describe, expect, it } from 'vitest';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { mlCompute } from './mlCompute.js';
import { portCompute, type PortCompute, type TaskPort } from './portCompute.js';
import type { PortReady } from './portMessages.js';
import { encodeDataChunk } from '../ml/dataChunk.js';
import { syntheticDigits } from '../ml/trainBench.js';
import type { ModelSpec, TrainSpec } from '../spec/ml.js';

// The node's side of the GPU window's port. The far end here is a scripted window that
// answers each task the way a test needs (well, malformed, or by dying); the real window
// is driven end to end in test/ui/gpuTrainer.e2e.ts.

const model: ModelSpec = { kind: 'logreg', inputShape: [28, 28, 1], numClasses: 10 };
const spec: TrainSpec = { optimizer: { kind: 'sgd', lr: 0.1, momentum: 0 }, epochs: 1, batchSize: 16, mu: 0, seed: 0 };
const owner = { member: 'm', trainSeed: 1 };
const ready: PortReady = { type: 'ready', v: 1, backend: 'webgl', webgpu: { available: false, reason: 'no adapter' }, webgl: { available: true, device: 'Test GPU' } };
const digits = syntheticDigits(64, 3);
const chunk = encodeDataChunk({ name: 'digits', train: digits, test: digits });

function nodePort(p: MessagePort): TaskPort {
  return { post: (m) => p.postMessage(m), onMessage: (l) => p.on('message', l), onClose: (l) => p.once('close', l), close: () => p.close() };
}

/** A window that says it is ready, then answers each task with `answer`. */
function scriptedWindow(answer: (req: { id: number; kind: string; payload: unknown }, reply: (m: unknown) => void, win: MessagePort) => void) {
  const { port1, port2 } = new MessageChannel();
  port2.on('message', (req: { id: number; kind: string; payload: unknown }) => answer(req, (m) => port2.postMessage(m), port2));
  port2.postMessage(ready);
  return { port: nodePort(port1), win: port2 };
}

let opened: PortCompute[] = [];
afterEach(async () => {
  for (const c of opened) await c.stop();
  opened = [];
});
const open = (port: TaskPort, events: string[] = []) => {
  const c = portCompute({ port, fallback: mlCompute({ backend: 'wasm' }), onLost: (why) => events.push(`lost: ${why}`), onMalformed: (why) => events.push(why) });
  opened.push(c);
  return c;
};

describe('portCompute', () => {
  it('reads the window’s ready report', async () => {
    const { port } = scriptedWindow(() => undefined);
    await expect(open(port).ready).resolves.toEqual(ready);
  });

  const malformed: Array<{ name: string; reply: (id: number) => unknown; error: RegExp }> = [
    { name: 'a result of the wrong shape', reply: (id) => ({ id, ok: true, result: { train: 'many', test: 1, name: 'x' } }), error: /loadData: a malformed result from the GPU window \(train: / },
    { name: 'an answer with an unknown field', reply: (id) => ({ id, ok: true, result: { train: 1, test: 1, name: 'x' }, extra: 1 }), error: /loadData: a malformed message from the GPU window/ },
    { name: 'an error without a message', reply: (id) => ({ id, ok: false, error: { name: 'E' } }), error: /loadData: a malformed message from the GPU window/ },
    { name: 'a negative sample count', reply: (id) => ({ id, ok: true, result: { train: -1, test: 1, name: 'x' } }), error: /malformed result .*train/ },
  ];
  for (const c of malformed) {
    it(`fails the task on ${c.name}, and carries on`, async () => {
      let first = true;
      const { port } = scriptedWindow((req, reply) => {
        reply(first ? c.reply(req.id) : { id: req.id, ok: true, result: { train: 64, test: 64, name: 'digits' } });
        first = false;
      });
      const compute = open(port);
      await expect(compute.loadData({ key: 'k', source: { kind: 'chunk', bytes: chunk }, owner }), c.name).rejects.toThrow(c.error);
      await expect(compute.loadData({ key: 'k', source: { kind: 'chunk', bytes: chunk }, owner }), c.name).resolves.toEqual({ train: 64, test: 64 });
      expect(compute.lost).toBe(false);
    });
  }

  it('passes on the window’s own error, and drops junk that answers no task', async () => {
    const events: string[] = [];
    const { port } = scriptedWindow((req, reply) => {
      reply('junk');
      reply({ id: 999, ok: true, result: {} });
      reply({ id: req.id, ok: false, error: { name: 'BadInputError', code: 'BAD_INPUT', message: 'no data loaded under "k"' } });
    });
    const compute = open(port, events);
    const err = await compute.evaluate({ key: 'k', model, params: new Uint8Array(8) }).catch((e: unknown) => e as Error & { code: string });
    expect(err.message).toMatch(/the GPU window failed evaluate: no data loaded under "k"/);
    expect(err.code).toBe('BAD_INPUT');
    expect(events).toEqual([expect.stringMatching(/^a malformed message from the GPU window/)]);
  });

  it('a window that dies mid-task fails it clearly; later training runs on the fallback with the same data', async () => {
    const events: string[] = [];
    const { port } = scriptedWindow((req, reply, win) => {
      if (req.kind === 'loadData') reply({ id: req.id, ok: true, result: { train: 64, test: 64, name: 'digits' } });
      else win.close(); // dies while training
    });
    const compute = open(port, events);
    await compute.ready;
    await compute.loadData({ key: 'k', source: { kind: 'chunk', bytes: chunk }, owner });
    const init = await compute.initParams({ model, seed: 1 });
    await expect(compute.train({ key: 'k', model, train: spec, global: init, seed: 1 })).rejects.toThrow(/the GPU window closed while running train; later tasks run on the CPU/);
    expect(compute.lost).toBe(true);
    expect(events).toEqual(['lost: closed']);
    const r = await compute.train({ key: 'k', model, train: spec, global: init, seed: 1 });
    expect(r.backend).toBe('wasm');
    expect(r.samples).toBe(64);
    expect((await compute.evaluate({ key: 'k', model, params: r.params })).samples).toBe(64);
  });

  it('an aborted task fails at once and the window is told to cancel it', async () => {
    const seen: unknown[] = [];
    const { port } = scriptedWindow((req) => seen.push(req));
    const compute = open(port);
    await compute.ready;
    const ac = new AbortController();
    const task = compute.evaluate({ key: 'k', model, params: new Uint8Array(8) }, { signal: ac.signal }).catch((e: unknown) => e);
    while (seen.length < 1) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    expect(await task).toMatchObject({ code: 'ABORTED' });
    while (seen.length < 2) await new Promise((r) => setTimeout(r, 5));
    expect(seen[1]).toEqual({ type: 'cancel', id: (seen[0] as { id: number }).id });
    expect(compute.lost).toBe(false);
  });

  it('a window that closes before it reports fails `ready`', async () => {
    const { port1, port2 } = new MessageChannel();
    const compute = open(nodePort(port1));
    port2.close();
    await expect(compute.ready).rejects.toThrow(/the GPU window closed before it reported its backend/);
  });
});
