// What a job's own (keras) model is, computed from its topology by the node's contract code.
export { kerasSummary } from '@canopy/core/app/contract';
