import type { CanopyApi } from '@canopy/core/app/contract';

// The renderer sees the node only through this type. In Electron the preload provides it as
// `window.api`; in a browser the WebSocket bridge does. Both are checked against the contract.

/** The API the UI talks to. */
export type Api = CanopyApi;

export type {
  BackendChoice,
  BatchProgress,
  ConsentPrompt,
  DatasetPreview,
  Invitation,
  Limits,
  LocalDataset,
  LogEntry,
  MetricPoint,
  NodeInfo,
  OutboxEntry,
  Receipt,
  Roles,
  Snapshot,
  TrainingJob,
  EventName,
  EventPayload,
} from '@canopy/core/app/contract';
