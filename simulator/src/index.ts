/**
 * The Canopy simulator: many virtual nodes of the real protocol in one process, in virtual
 * time. This module exports the discrete-event engine, the network model and device profiles.
 */
export { NetworkModel, NetworkSpec, LatencySpec, type LinkCapacity, type NetPartitionSpec } from './engine/network.js';
export { DeviceProfile, DEFAULT_PROFILES, assignProfiles } from './engine/devices.js';
export * from './scenario/index.js';
export * from './report/index.js';
export * from './run/index.js';
export * from './fidelity/index.js';
export * from './simulate/index.js';
export * from './bench/index.js';
export * from './queue/index.js';
