// Differential privacy: client-level clipping, Gaussian noise and the RDP accountant that says
// what ε a run has spent for a δ. docs/PRIVACY.md says how they fit together.

export * from './clipAndNoise.js';
export * from './rdp.js';
export { logGamma, logErfc } from './special.js';
