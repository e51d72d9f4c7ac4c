/**
 * Fidelity mode (issue #5): a scenario's job on real libp2p nodes over @libp2p/memory in this
 * process instead of the modelled network, recorded in the same shape.
 */
export { runFidelityRepetition, type FidelityHooks } from './runFidelity.js';
export { FidelityRecorder, type FidelityRecorderOptions } from './fidelityRecorder.js';
export { FIDELITY_MAX_MEMBERS, checkFidelity, assertFidelity, type FidelityCheck } from './limits.js';
