// A whole simulation: every repetition of a scenario, over the modelled network or in
// fidelity mode, with its report.
export { simulate, peakRssMb, type SimulateOptions, type SimulationResult, type SimulationProgress } from './simulate.js';
