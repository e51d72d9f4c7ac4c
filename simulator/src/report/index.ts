/**
 * A run's export (issue #5): per-round JSONL and CSV written as rounds finish, then
 * summary.json and a self-contained report.html with charts.
 */
export {
  RoundRecord,
  StageLatencies,
  STAGES,
  RepetitionEnd,
  ArtifactResultRecord,
  RepetitionStopReason,
  RunMeta,
  RunParameter,
  totalOf,
  type Stage,
  type RunMetaInput,
} from './roundRecord.js';
export { RunExporter, RUN_FILES, rebuildReport, roundScalars, type RunExporterOptions } from './runExporter.js';
export { TensorBoardWriter, encodeEvent, tfRecord, crc32c, maskedCrc32c, type ScalarEvent } from './tensorboard.js';
export { summarizeRun, summarizeRepetition, statOf, byRepetition, type RunSummary, type RepetitionSummary, type Stat } from './summary.js';
export { renderReport } from './reportHtml.js';
export { artifactResultSection } from './reportArtifact.js';
export { csvField, csvLine, roundCsvHeader, roundCsvFields } from './roundCsv.js';
export { escapeHtml } from './format.js';
