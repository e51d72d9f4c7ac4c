import { z } from 'zod';
import { ArtifactManifest, compileArtifact } from '@canopy/core/artifacts';
import { ClusterSpec, type Manifest } from '@canopy/core/protocol';
import { ManifestError } from '@canopy/core/util';
import { expandTree, TreeSpec } from './tree.js';
import { checkSplit, leafClients, readSourceRows, type ScenarioData, type SourceRows } from './scenarioTable.js';

// An artifact scenario (docs/SIMULATOR.md, "Artifacts"): `artifact:` instead of `job:`, with
// an artifact manifest's fields minus its cluster (a `tree` or `cluster` as for jobs) and
// minus its data (the scenario's `data:` deals CSV rows to the virtual clients). It is
// compiled with core's `compileArtifact`, the compiler submitters use, into the job the
// simulator runs: the manifest carries the artifact plan, and every virtual node computes
// with the runtime's ArtifactCompute.

/** The dataset name the compiled plan asks every node for; the simulator answers it from `data`. */
export const SIMULATED_DATASET = 'scenario-table';

/** The `artifact` of a scenario. */
export const ScenarioArtifact = ArtifactManifest.omit({ apiVersion: true, kind: true, name: true, data: true, cluster: true, local: true })
  .extend({
    /** The artifact's name; default: the scenario's name. */
    name: ArtifactManifest.shape.name.optional(),
    // Checked by core's validateArtifact, whose messages list the known step kinds.
    steps: z.array(z.unknown()).min(1, 'an artifact needs at least one step'),
    cluster: ClusterSpec.optional(),
    tree: TreeSpec.optional(),
  })
  .superRefine((a, ctx) => {
    if ((a.cluster === undefined) === (a.tree === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of `cluster` (listed nodes) or `tree` (generated)' });
    }
  });
export type ScenarioArtifact = z.infer<typeof ScenarioArtifact>;

/** The fields of a scenario document that decide what it runs. */
interface Document {
  readonly name: string;
  readonly job?: unknown;
  readonly artifact?: ScenarioArtifact;
  readonly data?: ScenarioData;
  readonly training: { readonly mode: string };
  readonly transport: string;
}

/** What an artifact scenario compiles to. */
export interface CompiledArtifact {
  /** The job manifest, as `compileArtifact` makes it for a real submission. */
  readonly manifest: Manifest;
  readonly rows: SourceRows;
}

/**
 * Checks which of `job` and `artifact` a scenario has (exactly one), and compiles an
 * artifact with its data. Returns null for a job scenario; otherwise the compiled artifact,
 * or one line per problem naming the field.
 */
export function compileScenarioArtifact(doc: Document, baseDir: string): { compiled: CompiledArtifact } | { problems: string[] } | null {
  const hasJob = doc.job !== undefined;
  const a = doc.artifact;
  if (hasJob && a) return { problems: ['artifact: expected either `job` (a training job) or `artifact` (steps over CSV tables), not both'] };
  if (!hasJob && !a) return { problems: ['job: expected `job` (a training job) or `artifact` (steps over CSV tables); found neither'] };
  if (!a) {
    if ((doc.job as { artifact?: unknown }).artifact !== undefined) return { problems: ['job.artifact: write an artifact scenario as `artifact:` (its steps, privacy and tree) with `data:` (its CSV rows), not inside `job`'] };
    return doc.data === undefined ? null : { problems: ['data: applies to `artifact` scenarios only (a job names its data in job.dataset)'] };
  }
  if (!doc.data) return { problems: ['data: an artifact scenario needs `data: { csv: <file or files>, split: { kind: iid } }`, the table its virtual clients answer from'] };
  const problems: string[] = [];
  const { tree, cluster, name, ...fields } = a;
  let manifest: Manifest;
  try {
    const expanded = cluster ?? expandTree(tree!);
    manifest = compileArtifact({ apiVersion: 'canopy/v1', kind: 'Artifact', name: name ?? doc.name, ...fields, data: { dataset: SIMULATED_DATASET }, cluster: expanded }, doc.name);
  } catch (e) {
    if (e instanceof ManifestError) return { problems: e.issues.map((i) => (i.startsWith('(top level)') ? `artifact${i.slice(11)}` : `artifact.${i}`)) };
    throw e;
  }
  const train = manifest.artifact?.steps.findIndex((s) => s.kind === 'train') ?? -1;
  if (train >= 0 && doc.training.mode !== 'real') {
    problems.push(`training.mode: train steps in a simulated artifact (artifact.steps[${train}]) need \`training: { mode: real }\` (tfjs on the clients' tables); found ${doc.training.mode}`);
  }
  if (doc.transport === 'libp2p') problems.push(`transport: artifact scenarios run on the modelled network only; found libp2p`);
  const read = readSourceRows(doc.data, baseDir);
  if ('problems' in read) return { problems: [...problems, ...read.problems] };
  problems.push(...checkSplit(doc.data, leafClients(manifest.cluster).length));
  return problems.length > 0 ? { problems } : { compiled: { manifest, rows: read.rows } };
}

// The rows read while validating, kept for the runs (a scenario is immutable once parsed,
// and `simulate` copies it shallowly, so its `data` object is the key).
const rowsCache = new WeakMap<ScenarioData, SourceRows>();

/** Remembers the rows read for `data` (whose paths are absolute). */
export function keepSourceRows(data: ScenarioData, rows: SourceRows): void {
  rowsCache.set(data, rows);
}

/** The rows of an artifact scenario's data: those read at validation, or read again. */
export function sourceRowsOf(data: ScenarioData): SourceRows {
  let rows = rowsCache.get(data);
  if (!rows) {
    const read = readSourceRows(data, process.cwd());
    if ('problems' in read) throw new ManifestError('data', read.problems);
    rows = read.rows;
    rowsCache.set(data, rows);
  }
  return rows;
}
