/** Benchmarks of the simulator (issue #5): they measure and print, they are not tests. */
export { measureScale, withRounds, median, type ScaleMeasurement } from './measureScale.js';
export { measurePoolThroughput, type PoolThroughput, type PoolBenchOptions } from './measurePoolThroughput.js';
export { measureSecAgg, type SecAggMeasurement, type SecAggBenchOptions } from './measureSecAgg.js';
export { processCpuMs, RedisCpu } from './processCpu.js';
