import { Command } from 'commander';
import { compileArtifact } from '@canopy/core/artifacts';
import { paramCount } from '@canopy/core/ml';
import { buildJobTree, parseManifestYaml, timingWarnings, validateManifest, type JobTree, type Manifest } from '@canopy/core/protocol';
import { BadInputError, CanopyError } from '@canopy/core/util';
import { scenarioManifest, validateScenario } from '@canopy/simulator';
import { createOutput } from '../output.js';
import { collectOverride, readDocumentText, type Override } from '../overrides.js';

interface ValidateFlags {
  set?: Override[];
  json: boolean;
}

/** What one file came to: valid with a summary, or the problems found. */
export type Validation =
  | { readonly file: string; readonly valid: true; readonly kind: 'Job' | 'Artifact' | 'Scenario'; readonly summary: JobSummary; readonly warnings: readonly string[] }
  | { readonly file: string; readonly valid: false; readonly error: string };

/** The shape of the job a document describes. */
export interface JobSummary {
  readonly name: string;
  readonly clusters: number;
  readonly depth: number;
  readonly clients: number;
  readonly workers: number;
  readonly model: string;
  readonly parameters: number | null;
  readonly stop: string;
  readonly manifestHash: string;
}

/** `canopy validate`: checks manifests, artifacts and scenarios without running anything. */
export function validateCommand(): Command {
  return new Command('validate')
    .summary('check job manifests, artifacts and scenarios without running them')
    .description(
      'Reads each file (a Job manifest, an Artifact or a Scenario, told apart by its `kind`), applies\n' +
        'any --set, and validates it with the same rules a node or the simulator applies: schema,\n' +
        'limits, membership, and for a job its timing. Prints a summary of each valid file and every\n' +
        'problem of an invalid one, each naming its field. Exits 1 if any file is invalid.',
    )
    .argument('<files...>', 'YAML files to check')
    .option('--set <path=value>', 'override a field before validating, e.g. --set stop.rounds=20 (repeatable; the value is YAML)', collectOverride)
    .option('--json', 'print one JSON line per file', false)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  canopy validate examples/jobs/mnist-2level.yaml\n' +
        '  canopy validate examples/scenarios/*.yaml --json\n' +
        "  canopy validate examples/jobs/single-cluster.yaml --set stop.rounds=50 --set 'aggregator={kind: fedadam, serverLr: 0.05}'",
    )
    .action(async (files: string[], flags: ValidateFlags) => {
      const out = createOutput({ json: flags.json });
      let invalid = 0;
      for (const file of files) {
        const v = await validateFile(file, flags.set ?? []);
        out.record(v);
        if (v.valid) {
          const s = v.summary;
          out.say(
            `${file}: valid ${v.kind} "${s.name}": ${s.clusters} cluster${s.clusters === 1 ? '' : 's'} over ${s.depth} level${s.depth === 1 ? '' : 's'}, ` +
              `${s.clients} client slot${s.clients === 1 ? "" : "s"}, ${s.workers} worker${s.workers === 1 ? "" : "s"}; model ${s.model}${s.parameters === null ? '' : ` (${s.parameters.toLocaleString('en-US')} parameters)`}; stops after ${s.stop}`,
          );
          for (const w of v.warnings) out.say(`  warning: ${w}`);
        } else {
          invalid++;
          out.say(`${file}: invalid: ${v.error}`);
        }
      }
      if (invalid > 0) throw new BadInputError(`${invalid} of ${files.length} file${files.length === 1 ? '' : 's'} invalid`);
    });
}

/** Validates one file; every problem becomes `{ valid: false, error }`, never an exception. */
export async function validateFile(file: string, overrides: readonly Override[] = []): Promise<Validation> {
  try {
    const text = await readDocumentText(file, overrides);
    const doc = parseManifestYaml(text, file);
    const kind = (doc as { kind?: unknown } | null)?.kind;
    if (kind === 'Job') return valid(file, 'Job', validateManifest(doc, file));
    if (kind === 'Artifact') return valid(file, 'Artifact', compileArtifact(doc, file));
    // A scenario's job is validated as the manifest its first repetition runs.
    if (kind === 'Scenario') return valid(file, 'Scenario', scenarioManifest(validateScenario(doc, file)));
    return { file, valid: false, error: `kind is ${JSON.stringify(kind ?? null)}; expected Job, Artifact or Scenario` };
  } catch (err) {
    if (err instanceof CanopyError) return { file, valid: false, error: clipLines(err.message, MAX_PROBLEMS) };
    throw err;
  }
}

/** Problems listed per file; a file that is not YAML at all would otherwise list hundreds. */
const MAX_PROBLEMS = 12;

function clipLines(message: string, max: number): string {
  const [head, ...rest] = message.split('\n');
  if (rest.length <= max) return message;
  return [head, ...rest.slice(0, max), `  … and ${rest.length - max} more`].join('\n');
}

function valid(file: string, kind: 'Job' | 'Artifact' | 'Scenario', manifest: Manifest): Validation {
  const tree = buildJobTree(manifest);
  return { file, valid: true, kind, summary: summarize(tree), warnings: timingWarnings(tree) };
}

function summarize(tree: JobTree): JobSummary {
  const jobs = [...tree.jobs.values()];
  const m = tree.manifest;
  let parameters: number | null;
  try {
    parameters = paramCount(m.model);
  } catch {
    parameters = null;
  }
  const stop = Object.entries(m.stop)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(' or ');
  return {
    name: m.name,
    clusters: jobs.length,
    depth: Math.max(...jobs.map((j) => j.depth)) + 1,
    clients: jobs.filter((j) => j.leaf).reduce((n, j) => n + j.clients.length, 0),
    workers: new Set(jobs.flatMap((j) => j.workers)).size,
    model: m.model.kind,
    parameters,
    stop,
    manifestHash: tree.manifestHash,
  };
}
