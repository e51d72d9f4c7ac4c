// Differential privacy: the RDP accountant that says what ε a run has spent for a δ. Clipping
// and noise, which act on parameter vectors, are in ml/clipAndNoise.ts. docs/PRIVACY.md says how
// they fit together.

export * from './rdp.js';
export { logGamma, logErfc } from './special.js';
export * from './noiseKey.js';
