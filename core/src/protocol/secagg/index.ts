// Secure aggregation (SecAgg+, Bonawitz et al. 2017 with Bell et al. 2020's neighbour graph):
// the pure building blocks the protocol's secure rounds are made of. docs/PROTOCOL.md says how
// they are used; docs/PRIVACY.md what each party can learn.

export * from './ring.js';
export * from './prg.js';
export * from './keys.js';
export * from './neighbours.js';
export * from './shares.js';
export * from './secAggError.js';
export * from './secAggRound.js';
export * from './secAggClient.js';
export * from './secAggServer.js';
export * from './localRound.js';
export * from './weightedUpdate.js';
