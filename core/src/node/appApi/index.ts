// The app API: the contract between the Canopy UI and a node, and the transports that carry it.
export * from './contract.js';
export * from './channels.js';
export * from './rpcMessages.js';
export { AppApi, type AppApiInit } from './appApi.js';
export type { NodePort, NodePortEvents, JobOffer, ConsentAnswer } from './nodePort.js';
export { serveApi, dispatch, decodeArg, errorBody, type ApiSession, type EventSource } from './serveApi.js';
export { startUiServer, type UiServer, type UiServerInit } from './uiServer.js';
export { contentSecurityPolicy } from './staticFiles.js';
export { summariseDataset, previewDataset } from './previewDataset.js';
