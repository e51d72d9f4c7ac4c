// The app API: the contract between the Canopy UI and a node, and the transports that carry it.
export * from './wire.js';
export { AppApi, type AppApiInit } from './appApi.js';
export type { NodePort, NodePortEvents, JobOffer, ConsentAnswer } from './nodePort.js';
export { serveApi, dispatch, decodeArg, errorBody, type ApiSession, type EventSource } from './serveApi.js';
export { startUiServer, type UiServer, type UiServerInit } from './uiServer.js';
export { contentSecurityPolicy, createStaticHandler } from './staticFiles.js';
export { summariseDataset, previewDataset } from './previewDataset.js';
export { canopyNodePort, createAppLog, type AppLog, type CanopyNodePortInit } from './canopyNodePort.js';
export { createOwnerRelay, type OwnerRelay } from './ownerRelay.js';
export { loadAppSettings, saveAppSettings, startupBackend, DEFAULT_APP_SETTINGS, AppSettings } from './appSettings.js';
export { probeBackends, type GpuWindowReport } from './probeBackends.js';
export { selectBackend, backendOrder, isGpu, type BackendSelection } from './selectBackend.js';
