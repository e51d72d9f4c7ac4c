import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '@canopy/core/util';
import { RUN_FILES, RunExporter, rebuildReport } from './runExporter.js';
import { csvField, csvLine, roundCsvHeader } from './roundCsv.js';
import type { RoundRecord, RunMetaInput } from './roundRecord.js';
import { niceTicks } from './format.js';

/** A plausible run: accuracy rising towards 97%, per-level traffic, a few stragglers and crashes. */
function sampleRun(repetitions: number, rounds: number, levels = 3, seed = 1): RoundRecord[] {
  const out: RoundRecord[] = [];
  for (let rep = 0; rep < repetitions; rep++) {
    const rng = Rng.fromSeed(seed * 100 + rep);
    let t = 12 + rng.float() * 3;
    let wall = 0.4;
    for (let round = 1; round <= rounds; round++) {
      const training = 20 + rng.float() * 15;
      const aggregation = 2 + rng.float();
      t += training + aggregation + 0.4;
      wall += 0.8 + rng.float() * 0.2;
      const crashed = rng.int(4);
      const stragglers = rng.int(3);
      const bytesByLevel: Record<string, number> = {};
      const messagesByLevel: Record<string, number> = {};
      for (let l = 0; l < levels; l++) {
        bytesByLevel[String(l)] = 40_000 * 10 ** l * (1 + rng.float() * 0.1);
        messagesByLevel[String(l)] = 30 * 10 ** l + rng.int(20);
      }
      out.push({
        repetition: rep,
        round,
        virtualSeconds: t,
        wallSeconds: wall,
        accuracy: Math.min(1, 0.97 - 0.75 * Math.exp(-round / (3 + rep)) + 0.01 * rng.normal()),
        loss: 2.3 * Math.exp(-round / (4 + rep)) + 0.08 + 0.01 * rng.float(),
        participants: 100 - crashed - stragglers,
        stragglers,
        crashed,
        bytesByLevel,
        messagesByLevel,
        stageLatencies: { training, aggregation, consensus: 0.4, ...(round === 1 ? { jobSheets: 4, datasets: 8 } : {}) },
        ...(crashed === 3 ? { events: [`host-0_${rep} restarted from its checkpoint, "quoted" <b>&</b>`] } : {}),
      });
    }
  }
  return out;
}

function meta(levels = 3, repetitions = 3): RunMetaInput {
  return {
    scenario: 'demo <run>',
    description: 'A demo run & its "report"',
    levels,
    repetitions,
    parameters: [
      { label: 'Topology', value: '3-level tree, 111 clusters, 10,000 clients, 333 workers' },
      { label: 'Training', value: 'synthetic, P = 10,000' },
    ],
    stop: { rounds: 20, targetAccuracy: 0.95 },
    startedAt: '2025-01-02T03:04:05.000Z',
  };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'canopy-report-'));
}

/** Splits CSV text into rows of fields (RFC 4180, quoted fields may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',' || c === '\n') {
      row.push(field);
      field = '';
      if (c === '\n') {
        rows.push(row);
        row = [];
      }
    } else field += c;
  }
  return rows;
}

describe('csv', () => {
  const cases: [string | number | null, string][] = [
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    [' edge', '" edge"'],
    [0.5, '0.5'],
    [null, ''],
    [Number.NaN, ''],
  ];
  for (const [input, want] of cases) it(`escapes ${JSON.stringify(input)}`, () => expect(csvField(input)).toBe(want));

  it('round-trips awkward fields through a CSV parser', () => {
    const fields = ['a,b', 'q"q', 'x\ny', '', 'plain'];
    expect(parseCsv(csvLine(fields))).toEqual([fields]);
  });
});

describe('RunExporter', () => {
  it('streams every round to JSONL and CSV before finishing', () => {
    const dir = tempDir();
    const records = sampleRun(2, 4);
    const ex = RunExporter.open(dir, meta(3, 2), { scenarioYaml: 'name: demo\n' });
    ex.record(records[0]!);
    ex.record(records[1]!);
    // nothing is buffered: a kill now keeps both rounds
    const jsonl = readFileSync(ex.path('rounds'), 'utf8').trim().split('\n');
    expect(jsonl.map((l) => JSON.parse(l))).toEqual([records[0], records[1]]);
    expect(readFileSync(ex.path('csv'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(readFileSync(ex.path('scenario'), 'utf8')).toBe('name: demo\n');
    ex.close();
  });

  it('writes a CSV whose rows match the header and the records', () => {
    const dir = tempDir();
    const records = sampleRun(2, 5);
    const ex = RunExporter.open(dir, meta(3, 2));
    for (const r of records) ex.record(r);
    ex.finish();
    const rows = parseCsv(readFileSync(join(dir, RUN_FILES.csv), 'utf8'));
    expect(rows[0]).toEqual(roundCsvHeader(3));
    expect(rows).toHaveLength(records.length + 1);
    const col = (name: string) => rows[0]!.indexOf(name);
    records.forEach((r, i) => {
      const row = rows[i + 1]!;
      expect(row, `row ${i}`).toHaveLength(rows[0]!.length);
      expect(Number(row[col('accuracy')]), `row ${i}`).toBe(r.accuracy);
      expect(Number(row[col('bytes_l2')]), `row ${i}`).toBe(r.bytesByLevel['2']);
      expect(Number(row[col('bytes_total')]), `row ${i}`).toBeCloseTo(Object.values(r.bytesByLevel).reduce((a, b) => a + b, 0));
      expect(row[col('events')], `row ${i}`).toBe((r.events ?? []).join('; '));
      expect(row[col('stage_jobSheets_seconds')], `row ${i}`).toBe(r.round === 1 ? '4' : '');
    });
  });

  it('rejects a malformed round without writing it', () => {
    const dir = tempDir();
    const ex = RunExporter.open(dir, meta(2, 1));
    const good = sampleRun(1, 1, 2)[0]!;
    expect(() => ex.record({ ...good, accuracy: 97 })).toThrow(/accuracy/);
    expect(() => ex.record({ ...good, bytesByLevel: { '5': 1 } })).toThrow(/level 5, but the run has 2 level/);
    ex.record(good);
    ex.close();
    expect(readFileSync(join(dir, RUN_FILES.rounds), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(() => ex.record(good)).toThrow(/closed/);
  });

  it('refuses a folder that already holds a run unless asked to overwrite', () => {
    const dir = tempDir();
    RunExporter.open(dir, meta()).close();
    expect(() => RunExporter.open(dir, meta())).toThrow(/already holds a run/);
    RunExporter.open(dir, meta(), { overwrite: true }).close();
  });

  it('summarises repetitions, marking one that never ended as incomplete', () => {
    const dir = tempDir();
    const ex = RunExporter.open(dir, meta(3, 3));
    for (const r of sampleRun(3, 6)) ex.record(r);
    ex.endRepetition({ repetition: 0, stopReason: 'rounds' });
    ex.endRepetition({ repetition: 1, stopReason: 'targetAccuracy' });
    const summary = ex.finish(new Date('2025-01-02T04:00:00Z'));
    expect(summary.repetitions.map((r) => r.stopReason)).toEqual(['rounds', 'targetAccuracy', 'incomplete']);
    expect(summary.repetitions.map((r) => r.rounds)).toEqual([6, 6, 6]);
    expect(summary.overall.rounds).toMatchObject({ mean: 6, min: 6, max: 6, n: 3 });
    expect(summary.overall.finalAccuracy?.n).toBe(3);
    const onDisk = JSON.parse(readFileSync(join(dir, RUN_FILES.summary), 'utf8'));
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(summary)));
  });

  it('rebuilds the report of a killed run, dropping a half-written last line', () => {
    const dir = tempDir();
    const ex = RunExporter.open(dir, meta(3, 1));
    for (const r of sampleRun(1, 3)) ex.record(r);
    ex.close();
    writeFileSync(join(dir, RUN_FILES.rounds), readFileSync(join(dir, RUN_FILES.rounds), 'utf8') + '{"repetition":0,"rou');
    const summary = rebuildReport(dir);
    expect(summary.repetitions).toHaveLength(1);
    expect(summary.repetitions[0]).toMatchObject({ rounds: 3, stopReason: 'incomplete' });
    expect(readFileSync(join(dir, RUN_FILES.report), 'utf8')).toContain('incomplete');
  });
});

describe('report.html', () => {
  const dir = tempDir();
  const ex = RunExporter.open(dir, meta());
  for (const r of sampleRun(3, 20)) ex.record(r);
  for (let rep = 0; rep < 3; rep++) ex.endRepetition({ repetition: rep, stopReason: rep === 2 ? 'rounds' : 'targetAccuracy' });
  ex.finish();
  const html = readFileSync(join(dir, RUN_FILES.report), 'utf8');
  // CANOPY_REPORT_DEMO=/some/file.html keeps this report, to look at while changing the design
  if (process.env.CANOPY_REPORT_DEMO) writeFileSync(process.env.CANOPY_REPORT_DEMO, html);

  it('is self-contained: no scripts, no external URLs, no links to fetch', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/https?:/i);
    expect(html).not.toMatch(/<link|<img|<iframe|@import|url\(/i);
  });

  it('has every chart', () => {
    for (const title of ['Accuracy by round', 'Loss by round', 'Accuracy by virtual time', 'Loss by virtual time', 'Traffic per level', 'Messages per level', 'Participation', 'Stage latencies']) {
      expect(html, title).toMatch(new RegExp(`<svg class="chart"[^>]*aria-label="${title}"`));
    }
    // one line per repetition plus the mean in each convergence chart, and the min–max band
    expect(html.match(/<polygon class="band"/g)).toHaveLength(4);
    expect(html).toContain('target 95.0%');
    expect(html).toContain('level 2 (leaves)');
  });

  it('escapes the text it was given', () => {
    expect(html).toContain('demo &lt;run&gt;');
    expect(html).toContain('A demo run &amp; its &quot;report&quot;');
    expect(html).toContain('&quot;quoted&quot; &lt;b&gt;&amp;&lt;/b&gt;');
    expect(html).not.toContain('<run>');
  });

  it('says when a metric was never evaluated', () => {
    const d = tempDir();
    const e = RunExporter.open(d, meta(3, 1));
    for (const r of sampleRun(1, 3)) e.record({ ...r, accuracy: null, loss: null });
    e.finish();
    expect(readFileSync(join(d, RUN_FILES.report), 'utf8')).toContain('Accuracy was not evaluated in this run');
  });
});

describe('niceTicks', () => {
  const cases: [number, number, number[]][] = [
    [0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1]],
    [0.13, 0.97, [0, 0.2, 0.4, 0.6, 0.8, 1]],
    [0, 37, [0, 10, 20, 30, 40]],
    [5, 5, [4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6]],
  ];
  for (const [lo, hi, want] of cases) it(`ticks ${lo}..${hi}`, () => expect(niceTicks(lo, hi, 5)).toEqual(want));
});
