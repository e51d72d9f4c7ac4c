import { validateScenario, type Scenario, type ScenarioInput } from '../scenario/scenario.js';

/**
 * A small synthetic scenario for tests and examples: a 2-level tree of 2 sub-clusters × 4
 * clients with 3 workers each, P = 200, on reliable devices (no crashes, no sleep, no
 * stragglers) unless `overrides` say otherwise. Shallow-merged into the top level.
 */
export function smallScenario(overrides: Partial<ScenarioInput> = {}, job: Partial<ScenarioInput['job']> = {}): Scenario {
  return validateScenario({
    apiVersion: 'canopy/v1',
    kind: 'Scenario',
    name: 'test-small',
    job: {
      model: { kind: 'logreg', inputShape: [784], numClasses: 10 },
      train: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 32, seed: 5 },
      stop: { rounds: 4 },
      dataset: { source: { kind: 'mnist' } },
      timing: { roundDeadlineSeconds: 60 },
      tree: { depth: 2, fanout: 2, clientsPerLeaf: 4, workersPerCluster: 3 },
      ...job,
    },
    training: { mode: 'synthetic', params: 200, samplesPerClient: 100, learnRate: 0.5 },
    devices: { profiles: [{ name: 'steady', share: 1, speed: 1, upMbps: 50, downMbps: 100, meanOfflineSeconds: 0, crashPerRound: 0, stragglerProbability: 0 }] },
    network: { latency: { kind: 'lognormal', medianMs: 20, sigma: 0.5 } },
    seed: 11,
    ...overrides,
  });
}
