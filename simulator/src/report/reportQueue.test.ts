import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RUN_FILES, RunExporter } from './runExporter.js';
import type { RoundRecord } from './roundRecord.js';

const META = { scenario: 'queued', levels: 1, repetitions: 1, startedAt: '2026-12-06T20:00:00.000Z' };

const ROUND: RoundRecord = {
  repetition: 0,
  round: 1,
  virtualSeconds: 10,
  wallSeconds: 2,
  accuracy: 0.5,
  loss: 1,
  participants: 2,
  stragglers: 0,
  crashed: 0,
  bytesByLevel: { '0': 100 },
  messagesByLevel: { '0': 10 },
  stageLatencies: { training: 8, aggregation: 1, consensus: 0.5 },
};

const QUEUE = {
  queue: 'redis://10.0.0.5:6379',
  tasks: 5,
  retriedAfterLoss: 1,
  waitedMsMean: 12.5,
  waitedMsMax: 40,
  overheadMsMean: 3.25,
  workers: [
    { worker: 'gpu-box-123-ab', host: 'gpu-box', tasks: 3, byKind: { train: 2, evaluate: 1 }, runSeconds: 4.5, computeSeconds: 4.25, waitedMsMean: 10, waitedMsMax: 40 },
    { worker: 'laptop-9-cd', host: 'laptop', tasks: 2, byKind: { loadData: 2 }, runSeconds: 0.2, computeSeconds: 0.18, waitedMsMean: 16.3, waitedMsMax: 20 },
  ],
};

describe('a run folder of a queued run', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'canopy-queue-report-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keeps where tasks ran in repetitions.jsonl, summary.json and a report section', () => {
    const d = dir();
    const ex = RunExporter.open(d, META);
    ex.record(ROUND);
    ex.endRepetition({ repetition: 0, stopReason: 'rounds', finalHash: null, queue: QUEUE });
    const summary = ex.finish();
    expect(summary.repetitions[0]!.queue).toEqual(QUEUE);
    expect(JSON.parse(readFileSync(join(d, RUN_FILES.repetitions), 'utf8')).queue).toEqual(QUEUE);
    const html = readFileSync(join(d, RUN_FILES.report), 'utf8');
    expect(html).toContain('<h2>Compute queue</h2>');
    expect(html).toContain('through redis://10.0.0.5:6379; 1 went back to the queue');
    expect(html).toMatch(/<td class="text">gpu-box-123-ab<\/td><td class="text">gpu-box<\/td><td>3<\/td><td class="text">train 2, evaluate 1<\/td>/);
    expect(html).toMatch(/The queue(&#39;|&#x27;|')s own work per task \(message, blobs in and out\) took 3\.3 ms on average\./);
  });

  it('has no queue section for a run that computed in its own process', () => {
    const d = dir();
    const ex = RunExporter.open(d, META);
    ex.endRepetition({ repetition: 0, stopReason: 'rounds', finalHash: null });
    ex.finish();
    expect(readFileSync(join(d, RUN_FILES.report), 'utf8')).not.toContain('Compute queue');
  });

  it('a failed run writes failed.json with the error and how far it got, and no summary', () => {
    const d = dir();
    const ex = RunExporter.open(d, META);
    ex.record(ROUND);
    ex.fail(Object.assign(new Error('lost Redis at redis://q for 10 s'), { code: 'NETWORK' }), { repetition: 0, repetitionsFinished: 0 }, new Date('2026-12-06T21:00:00.000Z'));
    expect(JSON.parse(readFileSync(join(d, RUN_FILES.failed), 'utf8'))).toEqual({
      error: 'lost Redis at redis://q for 10 s',
      code: 'NETWORK',
      failedAt: '2026-12-06T21:00:00.000Z',
      repetition: 0,
      repetitionsFinished: 0,
      roundsRecorded: 1,
      lastRound: { repetition: 0, round: 1, accuracy: 0.5 },
    });
    expect(existsSync(join(d, RUN_FILES.summary))).toBe(false);
    // A new run in the same folder does not inherit the old failure.
    RunExporter.open(d, META, { overwrite: true }).close();
    expect(existsSync(join(d, RUN_FILES.failed))).toBe(false);
  });
});
