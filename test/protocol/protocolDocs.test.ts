import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildJobTree, deriveJobSheet, jobSheetHash, JobSheetSchema, MessageType, parseManifest, validateMessage, type Role } from '../../core/src/protocol/index.js';
import { sampleScore, sampleSize, drawSample, sequentialPick } from '../../core/src/protocol/sampling.js';
import { canonicalJson, hashJson } from '../../core/src/util/hash.js';
import { hash32 } from '../../core/src/util/rng.js';
import { decodeParams } from '../../core/src/ml/params.js';
import { decodeSyntheticParams } from '../../core/src/ml/synthetic.js';
import { decodeDataChunk } from '../../core/src/ml/dataChunk.js';
import { partition } from '../../core/src/ml/data/partition.js';
import type { ModelSpec, PartitionSpec } from '../../core/src/spec/ml.js';
import { createHash } from 'node:crypto';
import { protocolDocFiles, vectorTree, type MessageVector } from './vectors.js';

// docs/protocol/schemas and docs/protocol/vectors are what a peer written from PROTOCOL.md
// checks itself against. This test keeps them true: each file must be exactly what the code
// generates now (a protocol change that does not regenerate them fails here; run
// `npm run protocol:docs` and review the diff), and the code must agree with every vector
// read back from disk.

const DOCS = join(dirname(fileURLToPath(import.meta.url)), '../../docs/protocol');
const WRITE = process.env.CANOPY_WRITE_PROTOCOL_DOCS === '1';
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
const bytesOf = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
const read = <T>(path: string): T => JSON.parse(readFileSync(join(DOCS, path), 'utf8')) as T;

function validateVector(tree: ReturnType<typeof vectorTree>, m: Pick<MessageVector, 'wire' | 'from' | 'topic' | 'view'>) {
  const view = m.view;
  return validateMessage(m.wire, { from: m.from, topic: m.topic, trees: new Map([[tree.rootId, tree]]), ...(view ? { view: () => view } : {}) });
}

describe('docs/protocol: generated schemas and vectors', () => {
  const tree = vectorTree();
  const files = protocolDocFiles((m) => validateVector(tree, m));

  if (WRITE) {
    it('writes every file (CANOPY_WRITE_PROTOCOL_DOCS=1)', () => {
      for (const [path, text] of files) {
        mkdirSync(dirname(join(DOCS, path)), { recursive: true });
        writeFileSync(join(DOCS, path), text);
      }
      expect(files.size).toBeGreaterThan(20);
    });
    return;
  }

  it('each schema and vector file is exactly what the code generates (regenerate with npm run protocol:docs)', () => {
    const stale: string[] = [];
    for (const [path, text] of files) {
      const onDisk = existsSync(join(DOCS, path)) ? readFileSync(join(DOCS, path), 'utf8') : undefined;
      if (onDisk !== text) stale.push(path);
    }
    expect(stale).toEqual([]);
  });

  it('holds no schema or vector file the code no longer generates', () => {
    const onDisk = ['schemas', 'vectors'].flatMap((dir) => readdirSync(join(DOCS, dir)).map((f) => `${dir}/${f}`));
    expect(onDisk.filter((p) => !files.has(p))).toEqual([]);
  });
});

describe('docs/protocol/vectors: the code agrees with every vector', () => {
  const tree = vectorTree();

  it('manifest.json: defaults, canonical JSON, hash, root id, topics, and every sheet and its hash', () => {
    const v = read<{ resolved: unknown; canonicalJson: string; manifestHash: string; rootId: string; jobs: { job: string; topic: string }[]; sheets: { member: string; role: Role; job: string; sheet: unknown; canonicalJson: string; hash: string }[] }>('vectors/manifest.json');
    const manifest = parseManifest(readFileSync(join(DOCS, 'vectors/manifest.yaml'), 'utf8'));
    expect(manifest).toEqual(v.resolved);
    expect(canonicalJson(manifest)).toBe(v.canonicalJson);
    expect(sha256(v.canonicalJson)).toBe(v.manifestHash);
    const t = buildJobTree(manifest);
    expect([t.rootId, t.manifestHash]).toEqual([v.rootId, v.manifestHash]);
    expect(v.jobs.map((j) => j.topic)).toEqual(v.jobs.map((j) => `canopy/1/${v.rootId}/${j.job}`));
    expect(v.sheets.length).toBe(12);
    for (const s of v.sheets) {
      const sheet = deriveJobSheet(t, s.job, s.role, s.member);
      expect(sheet, `${s.member} ${s.role} ${s.job}`).toEqual(s.sheet);
      expect(JobSheetSchema.safeParse(sheet).success).toBe(true);
      expect(canonicalJson(sheet)).toBe(s.canonicalJson);
      expect([jobSheetHash(sheet), sha256(s.canonicalJson)]).toEqual([s.hash, s.hash]);
    }
  });

  it('messages.json: every message type, with the verdict the validator gives', () => {
    const { messages } = read<{ messages: MessageVector[] }>('vectors/messages.json');
    const types = new Set(messages.map((m) => (JSON.parse(m.wire) as { type: string }).type));
    // Every type the code speaks has a vector: a new message type fails here until it gets one.
    expect([...types].sort()).toEqual(Object.values(MessageType).sort());
    for (const verdict of ['accept', 'reject', 'ignore'] as const) expect(messages.some((m) => m.verdict === verdict)).toBe(true);
    for (const m of messages) {
      const got = validateVector(tree, m);
      // A decoding failure's detail is the schema library's wording; that it is a decoding failure is the protocol's.
      const reason = (r: string) => (r.startsWith('malformed:') ? 'malformed' : r);
      expect({ name: m.name, verdict: got.result, reason: reason(got.reason) }).toEqual({ name: m.name, verdict: m.verdict, reason: reason(m.reason) });
    }
  });

  it('params.json: CNPY and CNSY blobs decode to their values, hash to their address, and malformed ones are refused', () => {
    type Malformed = { name: string; format: 'cnpy' | 'cnsy'; hex: string; error: string; model?: ModelSpec };
    const v = read<{ cnpy: { model: ModelSpec; specHash: string; shapes: number[][]; values: number[]; hex: string; sha256: string; size: number }; cnsy: { values: number[]; hex: string; sha256: string; size: number }; malformed: Malformed[] }>('vectors/params.json');
    const cnpy = bytesOf(v.cnpy.hex);
    expect([sha256(cnpy), cnpy.byteLength]).toEqual([v.cnpy.sha256, v.cnpy.size]);
    const decoded = decodeParams(cnpy, v.cnpy.model);
    expect([...decoded.params]).toEqual(v.cnpy.values.map((x) => Math.fround(x)));
    expect([decoded.specHash, hashJson(v.cnpy.model), decoded.shapes]).toEqual([v.cnpy.specHash, v.cnpy.specHash, v.cnpy.shapes]);
    const cnsy = bytesOf(v.cnsy.hex);
    expect([sha256(cnsy), cnsy.byteLength]).toEqual([v.cnsy.sha256, v.cnsy.size]);
    expect([...decodeSyntheticParams(cnsy)]).toEqual(v.cnsy.values);
    for (const m of v.malformed) {
      const bytes = bytesOf(m.hex);
      const decode = () => (m.format === 'cnpy' ? decodeParams(bytes, m.model ?? v.cnpy.model) : decodeSyntheticParams(bytes));
      expect(decode, m.name).toThrow(m.error);
    }
  });

  it('data-chunk.json: the chunk hashes to its address and decodes to its samples', () => {
    const v = read<{ hex: string; sha256: string; size: number; decoded: { name: string; sampleShape: number[]; numClasses: number; train: { features: number[]; labels: number[] }; test: { features: number[]; labels: number[] } } }>('vectors/data-chunk.json');
    const bytes = bytesOf(v.hex);
    expect([sha256(bytes), bytes.byteLength]).toEqual([v.sha256, v.size]);
    const split = decodeDataChunk(bytes);
    expect(split.name).toBe(v.decoded.name);
    for (const part of ['train', 'test'] as const) {
      expect([...split[part].features]).toEqual(v.decoded[part].features.map((x) => Math.fround(x)));
      expect([...split[part].labels]).toEqual(v.decoded[part].labels);
      expect([split[part].sampleShape, split[part].numClasses]).toEqual([v.decoded.sampleShape, v.decoded.numClasses]);
    }
  });

  it('sampling.json: FNV-1a, scores, sample sizes, quorum, the threshold of a draw and sequential picks', () => {
    type V = {
      fnv1a32: { text: string; hash: number }[];
      scores: { seed: number; id: string; score: number }[];
      sampleSize: { eligible: number; fraction: number; k: number }[];
      draw: { seed: number; eligible: string[]; k: number; threshold: number; sampled: string[] };
      quorum: { quorum: number; sampled: number; needed: number }[];
      sequential: { order: string[]; eligible: string[]; picks: { position: number; pick: string | null }[] };
    };
    const v = read<V>('vectors/sampling.json');
    for (const f of v.fnv1a32) expect(hash32(f.text) >>> 0, f.text).toBe(f.hash);
    for (const s of v.scores) expect(sampleScore(s.seed, s.id), s.id).toBe(s.score);
    for (const s of v.sampleSize) expect(sampleSize(s.eligible, s.fraction)).toBe(s.k);
    const drawn = drawSample(v.draw.eligible, v.draw.k, v.draw.seed);
    expect([drawn.rule.threshold, [...drawn.sampled].sort()]).toEqual([v.draw.threshold, v.draw.sampled]);
    expect(v.draw.eligible.filter((id) => sampleScore(v.draw.seed, id) <= v.draw.threshold).sort()).toEqual(v.draw.sampled);
    expect(v.draw.sampled).toHaveLength(v.draw.k);
    for (const q of v.quorum) expect(Math.max(1, Math.ceil(q.quorum * q.sampled - 1e-9))).toBe(q.needed);
    for (const p of v.sequential.picks) expect(sequentialPick(v.sequential.order, new Set(v.sequential.eligible), p.position) ?? null).toBe(p.pick);
  });

  it('shards.json: local shard cutting gives each shard its indices', () => {
    const v = read<{ labels: number[]; numClasses: number; seed: number; shards: number; parts: { partition: PartitionSpec; parts: number[][] }[] }>('vectors/shards.json');
    for (const p of v.parts) {
      expect(partition(Int32Array.from(v.labels), v.numClasses, v.shards, p.partition, v.seed).map((x) => [...x]), p.partition.kind).toEqual(p.parts);
    }
  });
});
