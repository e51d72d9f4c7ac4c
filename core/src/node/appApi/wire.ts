// The browser-safe part of the app API: the contract between the UI and a node, the IPC
// channel names and the WebSocket frames. The renderer and Electron's preload import only
// this; it reaches no Node built-in.
export * from './contract.js';
export * from './channels.js';
export * from './rpcMessages.js';
export { formatPeersEntry, isDialableElsewhere } from '../../protocol/peersEntry.js';
