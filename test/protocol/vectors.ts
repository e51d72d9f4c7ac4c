import { createHash } from 'node:crypto';
import { buildJobTree, jobSheetsFor, jobTopic, jobSheetHash, parseManifest, type JobTree, type Message } from '../../core/src/protocol/index.js';
import { drawSample, sampleScore, sampleSize, sequentialPick } from '../../core/src/protocol/sampling.js';
import { canonicalJson } from '../../core/src/util/hash.js';
import { hash32 } from '../../core/src/util/rng.js';
import { encodeParams } from '../../core/src/ml/params.js';
import { encodeSyntheticParams } from '../../core/src/ml/synthetic.js';
import { encodeDataChunk } from '../../core/src/ml/dataChunk.js';
import { partition } from '../../core/src/ml/data/partition.js';
import type { ModelSpec } from '../../core/src/spec/ml.js';
import { WIRE_SCHEMAS, wireJsonSchemaText } from '../../core/src/node/runtime/wireSchemas.js';

// The files of docs/protocol/schemas and docs/protocol/vectors, computed from the code.
// protocolDocs.test.ts compares them with the files on disk (so a protocol change that does
// not update them fails) and checks the code against what the files say;
// `npm run protocol:docs` writes them.

/** The example manifest every vector refers to: a 2-level tree with a distributor and a `peers:` map. */
export const VECTOR_MANIFEST = `# The manifest of docs/protocol/vectors: a root job with two sub-jobs, a distributor,
# and a peers map (root: the Ed25519 key whose 32-byte seed is all 0x07). Every message,
# sheet and hash in the vectors is of this manifest.
apiVersion: canopy/v1
kind: Job
name: vec
model: { kind: logreg, inputShape: [2], numClasses: 2 }
train: { optimizer: { kind: sgd, lr: 0.1 }, epochs: 1, batchSize: 8, seed: 7 }
stop: { rounds: 3 }
parameterFormat: cnpy
dataset:
  source: { kind: mnist }
  seed: 7
  distributor: dist
timing: { roundDeadlineSeconds: 60, quorum: 0.5, heartbeatSeconds: 2 }
cluster:
  host: root
  workers: [rw0, rw1, rw2]
  clusters:
    - host: h0
      workers: [w0]
      clients: [c1, c0]
    - host: h1
      workers: [w1]
      clients: [c2]
      timing: { localRounds: 2, distribution: sequential }
peers:
  root: { peerId: 12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7, addresses: [/ip4/127.0.0.1/tcp/4001, /ip4/127.0.0.1/tcp/4002/ws] }
`;

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The vector manifest's tree. */
export function vectorTree(): JobTree {
  return buildJobTree(parseManifest(VECTOR_MANIFEST, 'vectors/manifest.yaml'));
}

function manifestVector(tree: JobTree): unknown {
  const members = [...new Set([...tree.jobs.values()].flatMap((j) => [j.host, ...j.workers, ...(j.leaf ? j.clients.map((c) => c.id) : [])]).concat(tree.distributor ? [tree.distributor] : []))].sort();
  const canonical = canonicalJson(tree.manifest);
  return {
    about: 'manifest.yaml with every default applied, its canonical JSON, hash and root id, the topic of every job, and the job sheet of every (member, role, job) with its canonical JSON and hash (what an ack carries as sheetHash).',
    resolved: tree.manifest,
    canonicalJson: canonical,
    manifestHash: sha256(canonical),
    manifestBlob: { hash: sha256(canonical), size: Buffer.byteLength(canonical) },
    rootId: tree.rootId,
    jobs: [...tree.jobs.values()].map((j) => ({ job: j.name, topic: jobTopic(tree.rootId, j.name), host: j.host, workers: j.workers, clients: j.clients.map((c) => c.id) })),
    sheets: members.flatMap((member) =>
      jobSheetsFor(tree, member).map((sheet) => ({ member, role: sheet.role, job: sheet.job, sheet, canonicalJson: canonicalJson(sheet), hash: jobSheetHash(sheet) })),
    ),
  };
}

/** One message vector: the wire text, what the receiver knows, and the verdict the validator must give. */
export interface MessageVector {
  readonly name: string;
  readonly topic: string;
  /** The member name the gossip signer's peer id maps to (§4.1, E5). */
  readonly from: string;
  /** The receiver's view of the message's job (§4), or null for none. */
  readonly view: { round: number; hostSeq: number } | null;
  /** The message as sent: UTF-8 JSON text. */
  readonly wire: string;
  readonly verdict: 'accept' | 'reject' | 'ignore';
  readonly reason: string;
}

const h = (c: string) => c.repeat(64);
const ref = (c: string, size = 100) => ({ hash: h(c), size });

function messageVectors(tree: JobTree, validate: (m: Omit<MessageVector, 'verdict' | 'reason'>) => { result: MessageVector['verdict']; reason: string }): MessageVector[] {
  const root = tree.rootId;
  const sheetOf = (member: string, role: string, job: string) => {
    const s = jobSheetsFor(tree, member).find((x) => x.role === role && x.job === job);
    if (!s) throw new Error(`no sheet for ${member} ${role} ${job}`);
    return jobSheetHash(s);
  };
  const env = (type: Message['type'], job: string, sender: string, member: string, role: string, round: number, seq: number, payload: unknown) => ({ v: 1, type, root, job, round, seq, sender, member, role, payload });
  const state = (job: string, host: string, round: number, seq: number, over: Record<string, unknown>) =>
    env('state', job, host, host, 'host', round, seq, {
      jobsheetFlag: true,
      datasetFlag: true,
      processStage: 0,
      clientStage: 2,
      workerStage: 2,
      attempt: 0,
      parentRound: 0,
      localRound: 0,
      manifest: { hash: tree.manifestHash, size: Buffer.byteLength(canonicalJson(tree.manifest)) },
      global: null,
      sample: null,
      inputs: null,
      inputCount: 0,
      initFrom: null,
      excludedWorkers: [],
      missing: [],
      wrongSheet: [],
      metrics: null,
      stopReason: null,
      downloadable: false,
      ...over,
    });
  const J = 'vec';
  const J0 = 'vec#0';
  const J1 = 'vec#1';
  const t = (job: string) => jobTopic(root, job);
  const training = { processStage: 1, global: ref('a', 42), sample: { seed: 12345, threshold: 4294967295 } };
  const cases: { name: string; topic: string; from: string; view?: { round: number; hostSeq: number }; message: unknown }[] = [
    { name: 'state: setup, job-sheet flag only', topic: t(J), from: 'root', message: state(J, 'root', 0, 1700000000000, { datasetFlag: false, clientStage: 0, workerStage: 0 }) },
    { name: 'state: training round 1 of a sub-job, sampled by seed and threshold', topic: t(J0), from: 'h0', view: { round: 0, hostSeq: 1700000000000 }, message: state(J0, 'h0', 1, 1700000001000, { ...training, parentRound: 1, localRound: 1 }) },
    { name: 'state: training in a sequential sub-job, one client by name', topic: t(J1), from: 'h1', message: state(J1, 'h1', 1, 1700000001000, { processStage: 1, global: ref('a', 42), sample: { seed: 0, threshold: 0, only: 'c2' }, parentRound: 1, localRound: 1 }) },
    { name: 'state: training, naming a lost submission in missing', topic: t(J0), from: 'h0', message: state(J0, 'h0', 1, 1700000002000, { ...training, parentRound: 1, localRound: 1, missing: ['c1'] }) },
    { name: 'state: aggregating', topic: t(J), from: 'root', message: state(J, 'root', 1, 1700000003000, { processStage: 2, global: ref('a', 42), inputs: ref('b', 300), inputCount: 2 }) },
    { name: 'state: setup, naming a member whose sheet hash was wrong', topic: t(J0), from: 'h0', message: state(J0, 'h0', 0, 1700000000500, { datasetFlag: false, clientStage: 0, workerStage: 0, wrongSheet: ['c0'] }) },
    { name: 'state: finished', topic: t(J), from: 'root', message: state(J, 'root', 3, 1700000009000, { processStage: 3, global: ref('c', 42), stopReason: 'rounds: 3 of 3 done', downloadable: false, metrics: { loss: 0.31, accuracy: 0.9, samples: 120 } }) },
    { name: 'state: stale (seq not above the view)', topic: t(J0), from: 'h0', view: { round: 1, hostSeq: 1700000002000 }, message: state(J0, 'h0', 1, 1700000001000, { ...training, parentRound: 1, localRound: 1 }) },
    { name: 'state: of an earlier round than the view', topic: t(J0), from: 'h0', view: { round: 2, hostSeq: 1 }, message: state(J0, 'h0', 1, 1700000005000, { ...training, parentRound: 1, localRound: 1 }) },
    { name: 'state: training without a sample rule', topic: t(J), from: 'root', message: state(J, 'root', 1, 1700000001000, { processStage: 1, global: ref('a', 42) }) },
    { name: 'state: missing outside training', topic: t(J0), from: 'h0', message: state(J0, 'h0', 1, 1700000003000, { processStage: 2, global: ref('a', 42), inputs: ref('b'), inputCount: 1, missing: ['c0'] }) },
    { name: 'state: wrongSheet names a non-member', topic: t(J0), from: 'h0', message: state(J0, 'h0', 0, 1700000000500, { wrongSheet: ['c2'] }) },
    { name: 'state: of another manifest', topic: t(J), from: 'root', message: state(J, 'root', 0, 1700000000000, { manifest: ref('d') }) },
    { name: 'state: from a worker posing as host', topic: t(J), from: 'rw0', message: env('state', J, 'rw0', 'rw0', 'host', 0, 1, (state(J, 'root', 0, 1, {}) as { payload: unknown }).payload) },
    { name: 'state: with an unknown field', topic: t(J), from: 'root', message: state(J, 'root', 0, 1700000000000, { extra: 1 }) },
    { name: 'ack: client job sheet', topic: t(J0), from: 'c0', message: env('ack', J0, 'c0', 'c0', 'client', 0, 1700000000100, { stage: 1, sheetHash: sheetOf('c0', 'client', J0), refused: false, samples: 0 }) },
    { name: 'ack: client dataset, 600 samples', topic: t(J0), from: 'c0', message: env('ack', J0, 'c0', 'c0', 'client', 0, 1700000000200, { stage: 2, sheetHash: sheetOf('c0', 'client', J0), refused: false, samples: 600 }) },
    { name: 'ack: worker job sheet', topic: t(J), from: 'rw1', message: env('ack', J, 'rw1', 'rw1', 'worker', 0, 1700000000100, { stage: 1, sheetHash: sheetOf('rw1', 'worker', J), refused: false, samples: 0 }) },
    { name: 'ack: a sub-job acks its parent, spoken by its host as client vec#0', topic: t(J), from: 'h0', message: env('ack', J, 'h0', J0, 'client', 0, 1700000000300, { stage: 1, sheetHash: sheetOf('h0', 'host', J0), refused: false, samples: 0 }) },
    { name: 'ack: refused at stage 1', topic: t(J0), from: 'c0', message: env('ack', J0, 'c0', 'c0', 'client', 0, 1700000000100, { stage: 1, sheetHash: sheetOf('c0', 'client', J0), refused: true, samples: 0 }) },
    { name: 'ack: samples missing (every payload field is required)', topic: t(J0), from: 'c0', message: env('ack', J0, 'c0', 'c0', 'client', 0, 1700000000100, { stage: 1, sheetHash: sheetOf('c0', 'client', J0), refused: false }) },
    { name: 'ack: sender is not the signer', topic: t(J0), from: 'c1', message: env('ack', J0, 'c0', 'c0', 'client', 0, 1700000000100, { stage: 1, sheetHash: sheetOf('c0', 'client', J0), refused: false, samples: 0 }) },
    { name: 'ack: a client of another job', topic: t(J0), from: 'c2', message: env('ack', J0, 'c2', 'c2', 'client', 0, 1700000000100, { stage: 1, sheetHash: sheetOf('c2', 'client', J1), refused: false, samples: 0 }) },
    { name: 'ack: on the wrong topic', topic: t(J1), from: 'c0', message: env('ack', J0, 'c0', 'c0', 'client', 0, 1700000000100, { stage: 1, sheetHash: sheetOf('c0', 'client', J0), refused: false, samples: 0 }) },
    { name: 'heartbeat: a client that submitted in round 1', topic: t(J0), from: 'c1', message: env('heartbeat', J0, 'c1', 'c1', 'client', 1, 1700000004000, { status: 4, acked: 2, sheetHash: sheetOf('c1', 'client', J0), refused: false, samples: 600 }) },
    { name: 'heartbeat: status below the ack level', topic: t(J0), from: 'c1', message: env('heartbeat', J0, 'c1', 'c1', 'client', 1, 1700000004000, { status: 1, acked: 2, sheetHash: sheetOf('c1', 'client', J0), refused: false, samples: 600 }) },
    { name: 'init-params: the asked worker answers the root', topic: t(J), from: 'rw0', message: env('init-params', J, 'rw0', 'rw0', 'worker', 0, 1700000000400, { ref: ref('a', 42) }) },
    { name: 'init-params: to a sub-job', topic: t(J0), from: 'w0', message: env('init-params', J0, 'w0', 'w0', 'worker', 0, 1700000000400, { ref: ref('a', 42) }) },
    {
      name: 'submit: a client of a leaf job',
      topic: t(J0),
      from: 'c0',
      view: { round: 1, hostSeq: 1700000001000 },
      message: env('submit', J0, 'c0', 'c0', 'client', 1, 1700000002500, { ref: ref('e', 42), base: h('a'), samples: 600, eval: { loss: 0.69, accuracy: 0.5, samples: 150 }, train: { loss: 0.6, accuracy: 0.7 } }),
    },
    {
      name: 'submit: a sub-job submits upward, as client vec#0',
      topic: t(J),
      from: 'h0',
      message: env('submit', J, 'h0', J0, 'client', 1, 1700000003500, { ref: ref('f', 42), base: h('a'), samples: 1200, eval: { loss: 0.69, accuracy: 0.5, samples: 300 }, train: { loss: 0.6, accuracy: 0.7 } }),
    },
    { name: 'submit: a straggler from an earlier round', topic: t(J0), from: 'c0', view: { round: 2, hostSeq: 5 }, message: env('submit', J0, 'c0', 'c0', 'client', 1, 1700000002500, { ref: ref('e', 42), base: h('a'), samples: 600, eval: { loss: 0.69, accuracy: 0.5, samples: 150 }, train: { loss: 0.6, accuracy: 0.7 } }) },
    { name: 'submit: accuracy on zero samples', topic: t(J0), from: 'c0', message: env('submit', J0, 'c0', 'c0', 'client', 1, 1700000002500, { ref: ref('e', 42), base: h('a'), samples: 600, eval: { loss: 0, accuracy: 0.5, samples: 0 }, train: { loss: 0.6, accuracy: 0.7 } }) },
    { name: 'submit: in round 0', topic: t(J0), from: 'c0', message: env('submit', J0, 'c0', 'c0', 'client', 0, 1700000002500, { ref: ref('e', 42), base: h('a'), samples: 600, eval: { loss: 0.69, accuracy: 0.5, samples: 150 }, train: { loss: 0.6, accuracy: 0.7 } }) },
    { name: 'aggregate: a worker votes', topic: t(J), from: 'rw2', view: { round: 1, hostSeq: 1700000003000 }, message: env('aggregate', J, 'rw2', 'rw2', 'worker', 1, 1700000003600, { attempt: 0, inputs: h('b'), ref: ref('c', 42) }) },
    { name: 'aggregate: from a client', topic: t(J0), from: 'c0', message: env('aggregate', J0, 'c0', 'c0', 'client', 1, 1700000003600, { attempt: 0, inputs: h('b'), ref: ref('c', 42) }) },
    { name: 'aggregate: two rounds old', topic: t(J), from: 'rw2', view: { round: 3, hostSeq: 9 }, message: env('aggregate', J, 'rw2', 'rw2', 'worker', 1, 1700000003600, { attempt: 0, inputs: h('b'), ref: ref('c', 42) }) },
    { name: 'dataset-offer: an index for a leaf job', topic: t(J0), from: 'dist', message: env('dataset-offer', J0, 'dist', 'dist', 'distributor', 0, 1700000000600, { index: ref('9', 400), clients: 2 }) },
    { name: 'dataset-offer: a failure, to the root job', topic: t(J), from: 'dist', message: env('dataset-offer', J, 'dist', 'dist', 'distributor', 0, 1700000000700, { error: 'ENOENT: no such file or directory, open /data/mnist/train-images-idx3-ubyte' }) },
    { name: 'dataset-offer: the wrong client count', topic: t(J0), from: 'dist', message: env('dataset-offer', J0, 'dist', 'dist', 'distributor', 0, 1700000000600, { index: ref('9', 400), clients: 3 }) },
    { name: 'dataset-offer: both shapes at once', topic: t(J0), from: 'dist', message: env('dataset-offer', J0, 'dist', 'dist', 'distributor', 0, 1700000000600, { index: ref('9', 400), clients: 2, error: 'x' }) },
    { name: 'dataset-request: a client asks for its offer', topic: t(J0), from: 'c1', message: env('dataset-request', J0, 'c1', 'c1', 'client', 0, 1700000000800, {}) },
    { name: 'dataset-request: from a worker', topic: t(J0), from: 'w0', message: env('dataset-request', J0, 'w0', 'w0', 'worker', 0, 1700000000800, {}) },
    { name: 'any: wire version 2', topic: t(J0), from: 'c1', message: { ...env('dataset-request', J0, 'c1', 'c1', 'client', 0, 1, {}), v: 2 } },
    { name: 'any: a root job this peer does not take part in', topic: jobTopic('other-0123456789ab', 'other'), from: 'c1', message: { ...env('dataset-request', 'other', 'c1', 'c1', 'client', 0, 1, {}), root: 'other-0123456789ab' } },
  ];
  return cases.map((c) => {
    const base = { name: c.name, topic: c.topic, from: c.from, view: c.view ?? null, wire: JSON.stringify(c.message) };
    const v = validate(base);
    return { ...base, verdict: v.result, reason: v.reason };
  });
}

const VECTOR_MODEL: ModelSpec = { kind: 'logreg', inputShape: [2], numClasses: 2 };

function paramsVector(): unknown {
  const values = Float32Array.from([0.5, -1.25, 0, 3, -0.125, 1e-7]);
  const cnpy = encodeParams(VECTOR_MODEL, values);
  const cnsy = encodeSyntheticParams(Float32Array.from([0.5, -1.25, 0.75]));
  const flipped = cnpy.slice();
  flipped[60] = flipped[60]! ^ 1;
  return {
    about: 'Parameter blobs (§13.1, §13.2): the bytes as hex, their sha256 (the blob address) and what they decode to; malformed ones with the error a receiver must raise (it then treats the blob as a failed fetch).',
    cnpy: { model: VECTOR_MODEL, specHash: sha256(canonicalJson(VECTOR_MODEL)), shapes: [[2, 2], [2]], values: [...values], hex: hex(cnpy), sha256: sha256(cnpy), size: cnpy.byteLength },
    cnsy: { values: [0.5, -1.25, 0.75], hex: hex(cnsy), sha256: sha256(cnsy), size: cnsy.byteLength },
    malformed: [
      { name: 'cnpy with one header bit flipped (the trailing checksum no longer matches)', format: 'cnpy', hex: hex(flipped), error: 'checksum' },
      { name: 'cnpy cut short by one byte', format: 'cnpy', hex: hex(cnpy.subarray(0, cnpy.byteLength - 1)), error: 'truncated' },
      { name: 'cnpy decoded for another model (logreg 3 -> 2)', format: 'cnpy', model: { kind: 'logreg', inputShape: [3], numClasses: 2 }, hex: hex(cnpy), error: 'another model' },
      { name: 'cnsy whose count says 4 values but holds 3', format: 'cnsy', hex: hex(Uint8Array.from([...cnsy.subarray(0, 8), 4, 0, 0, 0, ...cnsy.subarray(12)])), error: 'bytes' },
    ],
  };
}

function chunkVector(): unknown {
  const split = {
    name: 'vec [c0]',
    train: { features: Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), labels: Int32Array.from([0, 1, 1]), sampleShape: [2], numClasses: 2, count: 3 },
    test: { features: Float32Array.from([0.7, 0.8]), labels: Int32Array.from([1]), sampleShape: [2], numClasses: 2, count: 1 },
  };
  const bytes = encodeDataChunk(split);
  return {
    about: 'A dataset chunk (§13.3): one member\'s training and test parts, as hex, with its sha256 and what it decodes to.',
    hex: hex(bytes),
    sha256: sha256(bytes),
    size: bytes.byteLength,
    decoded: { name: split.name, sampleShape: [2], numClasses: 2, train: { features: [...split.train.features], labels: [...split.train.labels] }, test: { features: [...split.test.features], labels: [...split.test.labels] } },
  };
}

function samplingVector(): unknown {
  const ids = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'vec#0', 'vec#1'];
  const seed = 1234567;
  const k = sampleSize(ids.length, 0.25);
  const drawn = drawSample(ids, k, seed);
  return {
    about: 'Client sampling (§6.3): FNV-1a of UTF-16 code units, the score, the sample size and the threshold for one draw, and a sequential pick.',
    fnv1a32: ['', 'a', '1234567:c0', 'seed:vec#0'].map((text) => ({ text, hash: hash32(text) >>> 0 })),
    scores: ids.map((id) => ({ seed, id, score: sampleScore(seed, id) })),
    sampleSize: [
      { eligible: 12, fraction: 0.25, k },
      { eligible: 10, fraction: 0.3, k: sampleSize(10, 0.3) },
      { eligible: 3, fraction: 0.01, k: sampleSize(3, 0.01) },
      { eligible: 7, fraction: 1, k: sampleSize(7, 1) },
    ],
    draw: { seed, eligible: ids, k, threshold: drawn.rule.threshold, sampled: [...drawn.sampled].sort() },
    quorum: [
      { quorum: 0.66, sampled: 3, needed: Math.max(1, Math.ceil(0.66 * 3 - 1e-9)) },
      { quorum: 0.5, sampled: 4, needed: Math.max(1, Math.ceil(0.5 * 4 - 1e-9)) },
      { quorum: 0.3, sampled: 10, needed: Math.max(1, Math.ceil(0.3 * 10 - 1e-9)) },
    ],
    sequential: { order: ['c3', 'c1', 'c2'], eligible: ['c1', 'c2'], picks: [0, 1, 2, 3].map((position) => ({ position, pick: sequentialPick(['c3', 'c1', 'c2'], new Set(['c1', 'c2']), position) ?? null })) },
  };
}

function shardsVector(): unknown {
  const labels = Int32Array.from([0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0]);
  return {
    about: 'Local shard cutting (§13.4): the sample indices each of 3 shards gets from 12 labelled samples, for seed 7, per partition kind.',
    labels: [...labels],
    numClasses: 2,
    seed: 7,
    shards: 3,
    parts: [{ kind: 'iid' as const }, { kind: 'shards' as const, classesPerClient: 1 }].map((spec) => ({ partition: spec, parts: partition(labels, 2, 3, spec, 7).map((p) => [...p]) })),
  };
}

/** Every generated file under docs/protocol, by path relative to it. */
export function protocolDocFiles(validate: Parameters<typeof messageVectors>[1]): Map<string, string> {
  const tree = vectorTree();
  const files = new Map<string, string>();
  for (const stem of Object.keys(WIRE_SCHEMAS)) files.set(`schemas/${stem}.schema.json`, wireJsonSchemaText(stem));
  files.set('vectors/manifest.yaml', VECTOR_MANIFEST);
  files.set('vectors/manifest.json', json(manifestVector(tree)));
  files.set('vectors/messages.json', json({ about: 'Gossip messages of every type on the manifest of manifest.json, with the verdict a receiver gives (§4): wire is the exact UTF-8 JSON text, from the member name the signer maps to, view the receiver\'s {round, hostSeq} of the job (null: none).', messages: messageVectors(tree, validate) }));
  files.set('vectors/params.json', json(paramsVector()));
  files.set('vectors/data-chunk.json', json(chunkVector()));
  files.set('vectors/sampling.json', json(samplingVector()));
  files.set('vectors/shards.json', json(shardsVector()));
  return files;
}
