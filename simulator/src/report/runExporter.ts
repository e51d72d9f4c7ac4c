import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BadInputError } from '@canopy/core/util';
import { csvLine, roundCsvFields, roundCsvHeader } from './roundCsv.js';
import { RepetitionEnd, RoundRecord, RunMeta, type RunMetaInput } from './roundRecord.js';
import { renderReport } from './reportHtml.js';
import { summarizeRun, type RunSummary } from './summary.js';
import { TensorBoardWriter } from './tensorboard.js';

/** The files of a run folder. */
export const RUN_FILES = {
  /** What the run is (scenario, parameters, levels); written first. */
  meta: 'run.json',
  /** The scenario file as given, for reproducing the run. */
  scenario: 'scenario.yaml',
  rounds: 'rounds.jsonl',
  csv: 'rounds.csv',
  repetitions: 'repetitions.jsonl',
  summary: 'summary.json',
  /** Written instead of a summary when the run ends in an error: what it was and how far the run got. */
  failed: 'failed.json',
  report: 'report.html',
  /** TensorBoard event files, one folder per repetition (`tensorboard --logdir <run folder>/tensorboard`). */
  tensorboard: 'tensorboard',
} as const;

/** Options of {@link RunExporter.open}. */
export interface RunExporterOptions {
  /** Saved as scenario.yaml beside the data. */
  readonly scenarioYaml?: string;
  /** Replace an earlier run in the same folder; without it, such a folder is refused. */
  readonly overwrite?: boolean;
}

/**
 * Writes a run folder as the run goes. Each round is appended to rounds.jsonl and
 * rounds.csv the moment it is recorded, with a synchronous write, so a run that is killed
 * keeps every round it finished (and {@link rebuildReport} can still report on it).
 * {@link finish} writes summary.json and report.html.
 */
export class RunExporter {
  private readonly records: RoundRecord[] = [];
  private readonly ends: RepetitionEnd[] = [];
  private fds: { rounds: number; csv: number; repetitions: number } | undefined;
  private readonly boards = new Map<number, TensorBoardWriter>();

  private constructor(
    /** The run folder. */
    readonly dir: string,
    /** What the run is. */
    readonly meta: RunMeta,
  ) {}

  /** Creates the folder (and parents), writes run.json and the CSV header, and opens the streams. */
  static open(dir: string, meta: RunMetaInput, options: RunExporterOptions = {}): RunExporter {
    const parsed = RunMeta.parse(meta);
    mkdirSync(dir, { recursive: true });
    if (!options.overwrite && existsSync(join(dir, RUN_FILES.meta))) {
      throw new BadInputError(`${dir} already holds a run (${RUN_FILES.meta}); choose a new folder or pass overwrite`);
    }
    const exporter = new RunExporter(dir, parsed);
    rmSync(join(dir, RUN_FILES.failed), { force: true });
    // An earlier run's event files would be read as part of this one.
    rmSync(join(dir, RUN_FILES.tensorboard), { recursive: true, force: true });
    writeFileSync(join(dir, RUN_FILES.meta), `${JSON.stringify(parsed, null, 2)}\n`);
    if (options.scenarioYaml !== undefined) writeFileSync(join(dir, RUN_FILES.scenario), options.scenarioYaml);
    exporter.fds = {
      rounds: openSync(join(dir, RUN_FILES.rounds), 'w'),
      csv: openSync(join(dir, RUN_FILES.csv), 'w'),
      repetitions: openSync(join(dir, RUN_FILES.repetitions), 'w'),
    };
    writeSync(exporter.fds.csv, csvLine(roundCsvHeader(parsed.levels)));
    return exporter;
  }

  /** Path of one of the run's files. */
  path(file: keyof typeof RUN_FILES): string {
    return join(this.dir, RUN_FILES[file]);
  }

  /** Appends one finished round to rounds.jsonl and rounds.csv. Throws on a malformed record, before writing anything. */
  record(round: RoundRecord): void {
    const fds = this.open();
    const r = RoundRecord.parse(round);
    const csv = csvLine(roundCsvFields(r, this.meta.levels));
    writeSync(fds.rounds, `${JSON.stringify(r)}\n`);
    writeSync(fds.csv, csv);
    this.boardOf(r.repetition).scalars({ step: r.round, wallTime: Date.now() / 1000, values: roundScalars(r) });
    this.records.push(r);
  }

  /** Notes why a repetition ended (appended to repetitions.jsonl). */
  endRepetition(end: RepetitionEnd): void {
    const fds = this.open();
    const e = RepetitionEnd.parse(end);
    writeSync(fds.repetitions, `${JSON.stringify(e)}\n`);
    this.ends.push(e);
  }

  /** Rounds recorded so far. */
  get rounds(): readonly RoundRecord[] {
    return this.records;
  }

  /** Closes the streams and writes summary.json and report.html. Returns the summary. */
  finish(finishedAt: Date = new Date()): RunSummary {
    this.close();
    return writeSummaryAndReport(this.dir, this.meta, this.records, this.ends, finishedAt);
  }

  /**
   * Closes the streams and writes failed.json: the error, and how far the run got (rounds
   * recorded in rounds.jsonl, repetitions finished). For a run that cannot go on.
   */
  fail(error: unknown, where: { repetition: number; repetitionsFinished: number }, at: Date = new Date()): void {
    this.close();
    const e = error instanceof Error ? error : new Error(String(error));
    const last = this.records.at(-1);
    const record = {
      error: e.message,
      code: (e as Error & { code?: unknown }).code ?? null,
      failedAt: at.toISOString(),
      repetition: where.repetition,
      repetitionsFinished: where.repetitionsFinished,
      roundsRecorded: this.records.length,
      lastRound: last ? { repetition: last.repetition, round: last.round, accuracy: last.accuracy } : null,
    };
    writeFileSync(join(this.dir, RUN_FILES.failed), `${JSON.stringify(record, null, 2)}\n`);
  }

  /** Closes the streams without a report (the run is abandoned); safe to call twice. */
  close(): void {
    for (const b of this.boards.values()) b.close();
    this.boards.clear();
    if (!this.fds) return;
    for (const fd of Object.values(this.fds)) closeSync(fd);
    this.fds = undefined;
  }

  private boardOf(repetition: number): TensorBoardWriter {
    let b = this.boards.get(repetition);
    if (!b) {
      b = TensorBoardWriter.open(join(this.dir, RUN_FILES.tensorboard, `repetition-${repetition}`));
      this.boards.set(repetition, b);
    }
    return b;
  }

  private open(): NonNullable<RunExporter['fds']> {
    if (!this.fds) throw new Error(`the run exporter of ${this.dir} is closed`);
    return this.fds;
  }
}

/**
 * A round's scalars in TensorBoard, by tag: the same values as its rounds.jsonl line
 * (`accuracy`, `loss`, clients, cumulative virtual and wall seconds, and per level `bytes/level-k`
 * and `messages/level-k`, per stage `stage/<name>`).
 */
export function roundScalars(r: RoundRecord): Record<string, number> {
  const out: Record<string, number> = {
    'clients/participants': r.participants,
    'clients/stragglers': r.stragglers,
    'clients/crashed': r.crashed,
    'time/virtualSeconds': r.virtualSeconds,
    'time/wallSeconds': r.wallSeconds,
  };
  if (r.accuracy !== null) out.accuracy = r.accuracy;
  if (r.loss !== null) out.loss = r.loss;
  for (const [level, v] of Object.entries(r.bytesByLevel)) out[`bytes/level-${level}`] = v;
  for (const [level, v] of Object.entries(r.messagesByLevel)) out[`messages/level-${level}`] = v;
  for (const [stage, v] of Object.entries(r.stageLatencies)) if (v !== undefined) out[`stage/${stage}`] = v;
  return out;
}

function writeSummaryAndReport(dir: string, meta: RunMeta, records: readonly RoundRecord[], ends: readonly RepetitionEnd[], finishedAt: Date): RunSummary {
  const summary = summarizeRun(meta, records, ends, finishedAt);
  writeFileSync(join(dir, RUN_FILES.summary), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(dir, RUN_FILES.report), renderReport(meta, summary, records));
  return summary;
}

/**
 * Reads a JSONL file of `schema` records. A run killed mid-write can leave a partial last
 * line; that one is dropped, while a bad line anywhere else is an error naming it.
 */
function readJsonl<T>(path: string, parse: (v: unknown) => T): T[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: T[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(parse(JSON.parse(line)));
    } catch (e) {
      const last = lines.slice(i + 1).every((l) => l.trim() === '');
      if (!last) throw new BadInputError(`${path}:${i + 1}: not a valid record (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
    }
  });
  return out;
}

/**
 * Writes summary.json and report.html of a run folder from its JSONL files: for a run that
 * was killed before it could finish, or after a report format change.
 */
export function rebuildReport(dir: string, finishedAt: Date = new Date()): RunSummary {
  const metaPath = join(dir, RUN_FILES.meta);
  if (!existsSync(metaPath)) throw new BadInputError(`${dir} is not a run folder: ${RUN_FILES.meta} is missing`);
  const meta = RunMeta.parse(JSON.parse(readFileSync(metaPath, 'utf8')));
  const records = readJsonl(join(dir, RUN_FILES.rounds), (v) => RoundRecord.parse(v));
  const ends = readJsonl(join(dir, RUN_FILES.repetitions), (v) => RepetitionEnd.parse(v));
  return writeSummaryAndReport(dir, meta, records, ends, finishedAt);
}
