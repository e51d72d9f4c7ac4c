import { validateArtifact, type ArtifactManifestInput, type Condition, type StatOp } from '@canopy/core/artifacts';
import type { ModelSpec, TrainSpec } from '@canopy/core/ml';
import { artifactStatus, fetchArtifactResult, submitArtifact, waitForArtifact, type ArtifactStatus, type ClusterOptions } from './artifactClient.js';

// The workbench: a typed API for scripts that build artifacts in code, submit them to a
// cluster, follow them and fetch their results (docs/ARTIFACTS.md, "Workbench"). A thin
// layer over the functions `canopy artifact` uses.
//
//   import { Workbench, artifact, step, where } from '@canopy/cli/workbench';
//   const wb = new Workbench({ peer: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...'] });
//   const result = await wb.run(artifact({ name: 'bmi', data: { dataset: 'patients' }, cluster,
//     steps: [step.filter(where('age', '>=', 40)), step.stats('bmi', ['mean', 'variance'])] }));

export type { ArtifactStatus, ClusterOptions } from './artifactClient.js';
export type { ArtifactManifestInput, ArtifactResult, StepResult, Condition } from '@canopy/core/artifacts';

/** A filter condition: `column op value`. */
export function where(column: string, op: Condition['op'], value: Condition['value']): Condition {
  return { column, op, value };
}

/** Step builders, one per step kind. */
export const step = {
  filter: (...conditions: Condition[]) => ({ kind: 'filter' as const, where: conditions }),
  count: (name?: string) => ({ kind: 'count' as const, ...(name ? { name } : {}) }),
  stats: (column: string, ops?: StatOp[], name?: string) => ({ kind: 'stats' as const, column, ...(ops ? { ops } : {}), ...(name ? { name } : {}) }),
  histogram: (column: string, bins: { min: number; max: number; count: number }, name?: string) => ({ kind: 'histogram' as const, column, bins, ...(name ? { name } : {}) }),
  train: (model: ModelSpec, train: TrainSpec, rounds: number, extra: { labelColumn?: string; features?: string[]; name?: string } = {}) => ({ kind: 'train' as const, model, train, rounds, ...extra }),
};

/** Builds an Artifact document and validates it now: a mistake throws ManifestError naming the field. */
export function artifact(spec: Omit<ArtifactManifestInput, 'apiVersion' | 'kind'>): ArtifactManifestInput {
  const doc: ArtifactManifestInput = { apiVersion: 'canopy/v1', kind: 'Artifact', ...spec };
  validateArtifact(doc, `artifact ${spec.name}`);
  return doc;
}

/** A connection to a cluster for scripts. */
export class Workbench {
  constructor(private readonly options: ClusterOptions = {}) {}

  /** Signs and submits an artifact (a document, or a YAML file path) to its root host. */
  submit(a: ArtifactManifestInput | string) {
    return submitArtifact(a, this.options);
  }

  /** Where an artifact stands now. */
  status(query: string): Promise<ArtifactStatus> {
    return artifactStatus(query, this.options);
  }

  /** Waits until the artifact finished or failed. */
  wait(query: string, onStatus?: (s: ArtifactStatus) => void) {
    return waitForArtifact(query, { ...this.options, ...(onStatus ? { onStatus } : {}) });
  }

  /** Downloads a finished artifact's result (where the artifact and its root host allow it). */
  result(query: string) {
    return fetchArtifactResult(query, this.options);
  }

  /** Submits, waits, and returns the result. */
  async run(a: ArtifactManifestInput | string) {
    const { rootId } = await this.submit(a);
    await this.wait(rootId);
    return this.result(rootId);
  }
}
