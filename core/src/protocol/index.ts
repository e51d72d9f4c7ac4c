// Canopy's hierarchical job protocol: pure state machines, message schemas and validators.
// See docs/PROTOCOL.md for the specification this code implements.

export * from './manifest.js';
export * from './manifestLimits.js';
export { formatPeersEntry, isDialableElsewhere, withPeerId } from './peersEntry.js';
export * from './stopOutcome.js';
export * from './jobTree.js';
export * from './jobSheet.js';
export * from './ctx.js';
export * from './effects.js';
export * from './inputs.js';
export * from './consensus.js';
export * from './sampling.js';
export * from './messages/index.js';
export * from './validate/index.js';
export { createMachine, createMachines, restoreHostMachine, restoreMemberMachine, stepMachine, viewOf, wantsMessage, type Machine, type MachineState } from './machines/index.js';
export { stepHost, type StepResult } from './machines/host.js';
export { createHostState, type HostState, MAX_ATTEMPTS, OFFLINE_AFTER_BEATS, FINISHED_LINGER_BEATS } from './machines/hostState.js';
export { checkpointHost, restoreHostState, HostCheckpoint } from './machines/hostCheckpoint.js';
export type { InputEntry } from './machines/hostRound.js';
export { createClientState, stepClient, type ClientState } from './machines/client.js';
export { createWorkerState, stepWorker, type WorkerState } from './machines/worker.js';
export { createDistributorState, stepDistributor, type DistributorState } from './machines/distributor.js';
export { ClientJournal, WorkerJournal, DistributorJournal, decodeJournal, journalBlobs, type MemberJournal } from './machines/memberJournal.js';
export { EventQueue } from './driver/eventQueue.js';
export { timingAdvice, timingWarnings, type TimingAdvice } from './timingAdvice.js';
export * from './secagg/index.js';
export * from './dp/index.js';
export * from './privacy.js';
