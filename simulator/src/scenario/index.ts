/**
 * Scenario files: a job manifest plus the simulator's settings (topology generator, training
 * mode, devices, network, faults, repetitions, seed), parsed and validated with errors that
 * name the field.
 */
export {
  Scenario,
  ScenarioJob,
  TrainingSpec,
  DevicesSpec,
  Transport,
  ScenarioError,
  SYNTHETIC_DEFAULTS,
  parseScenario,
  validateScenario,
  loadScenario,
  type ScenarioInput,
} from './scenario.js';
export { TreeSpec, MAX_TREE_CLIENTS, expandTree, treeSize, fanoutAt, childClusterPath, clusterNodeNames, type TreeSize, type TreeSpecInput } from './tree.js';
export { FaultSpec, HostCrashSpec, LieKind, lyingWorkers, clusterNodes, clusterHosts, minWorkers } from './faults.js';
export { scenarioManifest, scenarioCluster, repetitionSeeds, checkScenario, scenarioJobHash, type RepetitionSeeds } from './scenarioManifest.js';
export { describeScenario, scenarioRunMeta, countCluster, type ClusterCounts } from './describeScenario.js';
export { ScenarioArtifact, SIMULATED_DATASET, compileScenarioArtifact, sourceRowsOf, type CompiledArtifact } from './scenarioArtifact.js';
export { ScenarioData, TableSplit, readSourceRows, splitRows, leafClients, clientCsv, clientTable, type SourceRows } from './scenarioTable.js';
