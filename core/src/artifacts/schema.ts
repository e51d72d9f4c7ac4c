import { z } from 'zod';
import { DatasetSpec, PartitionSpec } from '../spec/ml.js';
import { ClusterSpec, ConsensusRule, MemberId, PeerSpec, TimingSpec, formatZodIssues, parseManifestYaml } from '../protocol/manifest.js';
import { ManifestError } from '../util/errors.js';
import { PrivacySpec } from '../spec/artifactPlan.js';
import { STEP_KINDS, Step } from '../spec/artifactSteps.js';

// The Artifact manifest a submitter writes (docs/ARTIFACTS.md): steps, privacy, data, and
// the same cluster tree, timing, consensus and peers as a Job. It is validated here and
// compiled (compile.ts) into an ordinary job manifest carrying the plan.

/** Where the nodes' data comes from. */
export const ArtifactDataSpec = z.union([
  /** A dataset each node's owner registered under this name (`canopy node --dataset name=file.csv`). */
  z.strictObject({ dataset: z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only') }),
  /** A dataset source split among the leaf clients, as in a Job (e.g. the embedded MNIST). */
  z.strictObject({ source: DatasetSpec, partition: PartitionSpec.default({ kind: 'iid' }), distributor: MemberId.optional() }),
]);

/** An Artifact manifest. */
export const ArtifactManifest = z.strictObject({
  apiVersion: z.literal('canopy/v1'),
  kind: z.literal('Artifact'),
  name: z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only (# is reserved for sub-jobs)'),
  description: z.string().max(2000).optional(),
  steps: z.array(Step).min(1, 'an artifact needs at least one step').max(256),
  privacy: PrivacySpec.default({ minGroupSize: 5 }),
  data: ArtifactDataSpec,
  /** The distribution of every cluster that does not set its own in `timing.distribution`. */
  distribution: z.enum(['collect', 'sequential']).default('collect'),
  consensus: ConsensusRule.default('majority_2_3'),
  timing: TimingSpec.default({}),
  /** Whether the result may be downloaded from the root host (which must allow it too). */
  allowResultDownload: z.boolean().default(false),
  maxWorkerFaults: z.number().int().min(1).default(2),
  /** Seed of data partitioning and model initialisation. */
  seed: z.number().int().default(0),
  cluster: ClusterSpec,
  peers: z.record(MemberId, PeerSpec).optional(),
  /** Read only by `canopy local`: the CSV file each member registers as the named dataset. */
  local: z.strictObject({ datasets: z.record(MemberId, z.string().min(1)) }).optional(),
});
export type ArtifactManifest = z.infer<typeof ArtifactManifest>;
export type ArtifactManifestInput = z.input<typeof ArtifactManifest>;

/** Whether parsed YAML is an Artifact (rather than a Job). */
export function isArtifactDocument(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Artifact';
}

/** Parses YAML text into a raw document; YAML errors become a {@link ManifestError}. */
export function parseYamlDocument(text: string, source: string): unknown {
  return parseManifestYaml(text, source);
}

/**
 * Validates an Artifact document. Throws {@link ManifestError} listing every problem with
 * its field path; an unknown step kind lists the known ones.
 */
export function validateArtifact(value: unknown, source = 'artifact'): ArtifactManifest {
  const result = ArtifactManifest.safeParse(value);
  if (!result.success) {
    throw new ManifestError(source, formatZodIssues(result.error.issues.map(explainStepKind), value));
  }
  const a = result.data;
  const problems = checkArtifact(a);
  if (problems.length > 0) throw new ManifestError(source, problems);
  return a;
}

// zod says "Invalid discriminator value"; say which step kinds exist.
function explainStepKind(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  const p = issue.path;
  if (issue.code === 'invalid_union' && p.length === 3 && p[0] === 'steps' && p[2] === 'kind') {
    return { ...issue, message: `unknown step kind; known kinds: ${STEP_KINDS.join(', ')}` };
  }
  return issue;
}

// Rules across fields that a schema cannot say.
function checkArtifact(a: ArtifactManifest): string[] {
  const problems: string[] = [];
  if (a.steps.every((s) => s.kind === 'filter')) problems.push('steps: every step is a filter; add a step that answers (count, stats, histogram or train)');
  const tabular = 'dataset' in a.data;
  const noise = a.privacy.noise;
  a.steps.forEach((s, i) => {
    const at = `steps[${i}]`;
    if (!tabular && s.kind !== 'train') problems.push(`${at}: a ${s.kind} step reads a CSV table; give data.dataset (a dataset the nodes registered) instead of data.source`);
    if (s.kind === 'train' && tabular && s.labelColumn === undefined) problems.push(`${at}.labelColumn: training on a table needs the class column`);
    if (s.kind === 'stats' && noise) {
      const bad = s.ops.filter((op) => op === 'min' || op === 'max');
      if (bad.length > 0) problems.push(`${at}.ops: ${bad.join(' and ')} cannot be released with Laplace noise; remove them or drop privacy.noise`);
      if (!noise.bounds[s.column]) problems.push(`privacy.noise.bounds.${s.column}: noise on column "${s.column}" (${at}) needs its bounds {min, max}`);
    }
  });
  return problems;
}
