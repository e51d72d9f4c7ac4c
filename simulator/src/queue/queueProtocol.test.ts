import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseScenario } from '../scenario/scenario.js';
import { blobHashes, decodeBlobs, encodeBlobs } from './redisBlobs.js';
import { parseQueueUrl, type BlobRefJson } from './queueProtocol.js';
import { placementReport } from './queueReport.js';

describe('parseQueueUrl', () => {
  it.each([
    ['redis://127.0.0.1:6391', { host: '127.0.0.1', port: 6391, db: 0, url: 'redis://127.0.0.1:6391' }],
    ['redis://queue.lan', { host: 'queue.lan', port: 6379, db: 0, url: 'redis://queue.lan' }],
    ['redis://[::1]:7000/3', { host: '::1', port: 7000, db: 3, url: 'redis://[::1]:7000/3' }],
  ])('%s', (text, want) => {
    expect(parseQueueUrl(text)).toEqual(want);
  });

  it.each([
    ['127.0.0.1:6379', /--queue: "127\.0\.0\.1:6379" is not a URL; expected redis:\/\/HOST:PORT/],
    ['not a url', /--queue: "not a url" is not a URL; expected redis:\/\/HOST:PORT/],
    ['http://h:1', /is not a redis:\/\/ URL/],
    ['redis://:secret@h:1', /put no password in the URL/],
    ['redis://h:1/99', /"99" is not a Redis database number/],
  ])('refuses %s', (text, error) => {
    expect(() => parseQueueUrl(text)).toThrow(error);
  });
});

describe('blob references in task messages', () => {
  // An in-memory stand-in for Redis that stores under a counter: the codec must give back
  // exactly the arrays it was given, wherever they sit in the message.
  const memory = () => {
    const held = new Map<string, Uint8Array>();
    return {
      put: async (b: Uint8Array): Promise<BlobRefJson> => {
        const hash = (held.size + 1).toString(16).padStart(64, '0');
        held.set(hash, b.slice());
        return { $blob: hash, size: b.byteLength };
      },
      get: async (ref: BlobRefJson) => ('$blob' in ref ? held.get(ref.$blob)! : new Uint8Array(Buffer.from(ref.$inline, 'base64'))),
    };
  };
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, fc.uint8Array({ maxLength: 64 }), fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.string({ minLength: 1 }).filter((k) => !k.startsWith('$') && k !== '__proto__'), tie('node'), { maxKeys: 4 })),
  })).node;

  it('decode(encode(x)) is x, and the encoded message is plain JSON naming each array once', async () => {
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const m = memory();
        const enc = await encodeBlobs(v, m.put);
        const json = JSON.parse(JSON.stringify(enc)) as unknown;
        expect(await decodeBlobs(json, m.get)).toEqual(v);
        const arrays = countArrays(v);
        expect(blobHashes(json)).toHaveLength(arrays);
      }),
      { numRuns: 200, seed: 20 },
    );
  });

  it('a malformed reference is refused with a clear error', async () => {
    await expect(decodeBlobs({ params: { $blob: 'zz', size: 1 } }, memory().get)).rejects.toThrow('a task message holds a malformed blob reference');
  });
});

function countArrays(v: unknown): number {
  if (v instanceof Uint8Array) return 1;
  if (Array.isArray(v)) return v.reduce((a: number, x) => a + countArrays(x), 0);
  if (v !== null && typeof v === 'object') return Object.values(v).reduce((a: number, x) => a + countArrays(x), 0);
  return 0;
}

describe('placementReport', () => {
  it('sums tasks, run time and waits per worker', () => {
    const answer = (worker: string, waitedMs: number, computeMs: number, handlingMs: number) => ({ worker, host: 'h', waitedMs, ranMs: computeMs + handlingMs, computeMs, handlingMs, result: {} });
    const r = placementReport('redis://q', [
      { kind: 'train', answer: answer('b', 10, 490, 10), fetchMs: 2 },
      { kind: 'train', answer: answer('a', 30, 995, 5), fetchMs: 4 },
      { kind: 'evaluate', answer: answer('a', -5, 250, 0), fetchMs: 0 },
    ], 1);
    expect(r).toEqual({
      queue: 'redis://q',
      tasks: 3,
      retriedAfterLoss: 1,
      waitedMsMean: 13.3,
      waitedMsMax: 30,
      overheadMsMean: 7,
      workers: [
        { worker: 'a', host: 'h', tasks: 2, byKind: { train: 1, evaluate: 1 }, runSeconds: 1.25, computeSeconds: 1.245, waitedMsMean: 15, waitedMsMax: 30 },
        { worker: 'b', host: 'h', tasks: 1, byKind: { train: 1 }, runSeconds: 0.5, computeSeconds: 0.49, waitedMsMean: 10, waitedMsMax: 10 },
      ],
    });
  });
});

describe('training.queue in a scenario', () => {
  const scenario = (training: string) => `apiVersion: canopy/v1
kind: Scenario
name: q
job:
  model: { kind: logreg, inputShape: [4], numClasses: 2 }
  train: { optimizer: { kind: sgd, lr: 0.1 }, epochs: 1, batchSize: 8, seed: 1 }
  aggregator: { kind: fedavg }
  stop: { rounds: 1 }
  dataset: { source: { kind: mnist }, partition: { kind: iid }, seed: 1 }
  tree: { depth: 1, fanout: 1, clientsPerLeaf: 2, workersPerCluster: 1 }
training: ${training}
`;
  it('accepts a redis:// URL', () => {
    const s = parseScenario(scenario('{ mode: real, queue: "redis://10.0.0.5:6379" }'));
    expect(s.training).toEqual({ mode: 'real', queue: 'redis://10.0.0.5:6379' });
  });
  it('refuses anything else, naming the field', () => {
    expect(() => parseScenario(scenario('{ mode: real, queue: "10.0.0.5:6379" }'))).toThrow(/training\.queue: expected redis:\/\/HOST:PORT/);
  });
});
