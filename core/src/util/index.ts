export * from './errors.js';
export * from './rng.js';
export * from './log.js';
export * from './hash.js';
export * from './fastCrypto.js';
