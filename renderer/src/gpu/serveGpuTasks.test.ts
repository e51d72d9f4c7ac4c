import { afterEach, describe, expect, it } from 'vitest';
import { encodeDataChunk, initBackend, syntheticDigits } from '@canopy/core/ml';
import type { PortReady } from '@canopy/core/compute/port';
import { serveGpuTasks } from './serveGpuTasks.js';

// The GPU window's task loop in Node, on tfjs's cpu backend: every malformed request gets an
// error reply, and the loop keeps serving. The page itself runs in Chromium in
// test/ui/gpuTrainer.e2e.ts.

const ready: PortReady = { type: 'ready', v: 1, backend: 'cpu', webgpu: { available: false, reason: 'none here' }, webgl: { available: false, reason: 'none here' } };

let ports: MessagePort[] = [];
afterEach(() => {
  for (const p of ports) p.close();
  ports = [];
});

async function serve() {
  const info = await initBackend('cpu');
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const replies: unknown[] = [];
  port1.onmessage = (e: MessageEvent) => void replies.push(e.data);
  serveGpuTasks(port2, ready, info);
  const next = async (n: number, all = false) => {
    for (let i = 0; i < 500 && replies.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    return all ? [...replies] : replies.slice(0, n);
  };
  return { send: (m: unknown) => port1.postMessage(m), next };
}

describe('serveGpuTasks', () => {
  it('says it is ready first', async () => {
    const w = await serve();
    expect(await w.next(1)).toEqual([ready]);
  });

  const malformed: { name: string; msg: unknown; id: number; error: RegExp }[] = [
    { name: 'not an object', msg: 'junk', id: 0, error: /malformed task/ },
    { name: 'no id', msg: { kind: 'dropData', payload: { key: 'k' } }, id: 0, error: /malformed task \(id: / },
    { name: 'an unknown kind', msg: { id: 3, kind: 'aggregate', payload: {} }, id: 3, error: /malformed task \(kind: / },
    { name: 'a local data source (the window reads no files)', msg: { id: 4, kind: 'loadData', payload: { key: 'k', source: { kind: 'local' } } }, id: 4, error: /malformed task \(payload\.source\.kind/ },
    { name: 'parameters that are not bytes', msg: { id: 5, kind: 'evaluate', payload: { key: 'k', model: { kind: 'logreg', inputShape: [4], numClasses: 2 }, params: [1, 2] } }, id: 5, error: /payload\.params: expected a Uint8Array/ },
    { name: 'an unknown model', msg: { id: 6, kind: 'initParams', payload: { model: { kind: 'resnet', inputShape: [4], numClasses: 2 }, seed: 1 } }, id: 6, error: /payload\.model\.kind/ },
  ];
  for (const c of malformed) {
    it(`answers ${c.name} with an error, and keeps serving`, async () => {
      const w = await serve();
      w.send(c.msg);
      w.send({ id: 99, kind: 'dropData', payload: { key: 'k' } });
      const [, bad, good] = await w.next(3);
      expect(bad, c.name).toMatchObject({ id: c.id, ok: false, error: { code: 'BAD_INPUT' } });
      expect((bad as { error: { message: string } }).error.message, c.name).toMatch(c.error);
      expect(good, c.name).toEqual({ id: 99, ok: true, result: { dropped: false } });
    });
  }

  it('a task that fails answers with its error', async () => {
    const w = await serve();
    w.send({ id: 7, kind: 'evaluate', payload: { key: 'nobody', model: { kind: 'logreg', inputShape: [4], numClasses: 2 }, params: new Uint8Array(8) } });
    const [, r] = await w.next(2);
    expect(r).toMatchObject({ id: 7, ok: false, error: { message: expect.stringMatching(/no data loaded under "nobody"/) } });
  });

  it('a cancel stops the running training at a batch and skips a queued task', async () => {
    const w = await serve();
    const digits = syntheticDigits(2048, 3);
    const model = { kind: 'logreg', inputShape: [28, 28, 1], numClasses: 10 };
    w.send({ id: 1, kind: 'loadData', payload: { key: 'k', source: { kind: 'chunk', bytes: encodeDataChunk({ name: 'd', train: digits, test: digits }) } } });
    w.send({ id: 2, kind: 'initParams', payload: { model, seed: 1 } });
    const [, , init] = await w.next(3);
    const params = (init as { result: { params: Uint8Array } }).result.params;
    // 1,000 epochs of 128 batches: far longer than this test.
    w.send({ id: 3, kind: 'train', payload: { key: 'k', model, train: { optimizer: { kind: 'sgd', lr: 0.1, momentum: 0 }, epochs: 1000, batchSize: 16, mu: 0, seed: 0 }, global: params, seed: 1 } });
    w.send({ id: 4, kind: 'evaluate', payload: { key: 'k', model, params } });
    w.send({ type: 'cancel', id: 4 });
    const progress = await w.next(4);
    expect(progress[3], JSON.stringify(progress[3])).toMatchObject({ id: 3, progress: { epoch: 0 } });
    w.send({ type: 'cancel', id: 3 });
    w.send({ id: 5, kind: 'dropData', payload: { key: 'nobody' } });
    const answers = async () => (await w.next(0, true)).filter((r) => typeof r === 'object' && r !== null && 'ok' in r);
    for (let i = 0; i < 500 && !(await answers()).some((r) => (r as unknown as { id: number }).id === 5); i++) await new Promise((r) => setTimeout(r, 10));
    expect((await answers()).slice(2)).toEqual([
      { id: 3, ok: false, error: expect.objectContaining({ code: 'ABORTED' }) },
      { id: 5, ok: true, result: { dropped: false } },
    ]);
  });
});
