import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { simulate } from '../simulate/simulate.js';
import { smallScenario } from '../run/testScenario.js';
import { RoundRecord } from './roundRecord.js';
import { roundScalars } from './runExporter.js';
import { crc32c, encodeEvent, maskedCrc32c, tfRecord } from './tensorboard.js';

// TensorBoard event files in a run folder: the record framing against known CRC-32C values,
// and a real simulation's files read back by TensorBoard's own Python reader
// (scripts/read_tensorboard.py), which must find the values of rounds.jsonl. That part runs
// where `python3` (or $CANOPY_PYTHON) can import tensorboard (`pip install tensorboard`), and
// says so when it is skipped.

const python = process.env.CANOPY_PYTHON ?? 'python3';
const hasTensorBoard = spawnSync(python, ['-c', 'import tensorboard'], { encoding: 'utf8' }).status === 0;
const reader = fileURLToPath(new URL('../../../scripts/read_tensorboard.py', import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('TensorBoard event files', () => {
  it('frames records with CRC-32C as TFRecord does', () => {
    // RFC 3720 B.4 test vectors.
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    const data = encodeEvent({ wallTime: 1.5, step: 3, scalars: [['loss', 0.25]] });
    const rec = tfRecord(data);
    const view = new DataView(rec.buffer);
    expect(view.getBigUint64(0, true)).toBe(BigInt(data.length));
    expect(view.getUint32(8, true)).toBe(maskedCrc32c(rec.subarray(0, 8)));
    expect(rec.subarray(12, 12 + data.length)).toEqual(data);
    expect(view.getUint32(12 + data.length, true)).toBe(maskedCrc32c(data));
  });

  it.skipIf(!hasTensorBoard)(`are read back by TensorBoard with the values of rounds.jsonl (needs ${python} with tensorboard)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-tb-'));
    dirs.push(dir);
    await simulate({ ...smallScenario(), repetitions: 2 }, { out: dir });
    const rounds = readFileSync(join(dir, 'rounds.jsonl'), 'utf8').trim().split('\n').map((l) => RoundRecord.parse(JSON.parse(l)));
    expect(readdirSync(join(dir, 'tensorboard')).sort()).toEqual(['repetition-0', 'repetition-1']);
    const r = spawnSync(python, [reader, join(dir, 'tensorboard')], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).not.toMatch(/Traceback/);
    expect(r.status).toBe(0);
    const read = JSON.parse(r.stdout) as Record<string, Record<string, [number, number][]>>;
    for (const rep of [0, 1]) {
      const mine = rounds.filter((x) => x.repetition === rep);
      expect(mine.length).toBeGreaterThan(1);
      const tags = read[`repetition-${rep}`]!;
      const expected: Record<string, [number, number][]> = {};
      for (const x of mine) for (const [tag, v] of Object.entries(roundScalars(x))) (expected[tag] ??= []).push([x.round, Math.fround(v)]);
      expect(Object.keys(tags).sort()).toEqual(Object.keys(expected).sort());
      expect(tags).toEqual(expected);
      expect(tags.accuracy!.map(([s]) => s)).toEqual(mine.map((x) => x.round));
    }
  });
});
