import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { formatZodIssues, parseManifestYaml } from '@canopy/core/protocol';
import { ManifestError } from '@canopy/core/util';
import { checkScenario } from './scenarioManifest.js';
import { compileScenarioArtifact, keepSourceRows } from './scenarioArtifact.js';
import { Scenario } from './scenarioSchema.js';

// Reading a scenario file: YAML, the schema (scenarioSchema.ts), an artifact compiled into
// its job, and the checks that need the whole scenario (scenarioManifest.ts).

export { Scenario, ScenarioJob, TrainingSpec, DevicesSpec, Transport, SYNTHETIC_DEFAULTS, type ScenarioInput } from './scenarioSchema.js';

/** A scenario that does not validate. A {@link ManifestError}, so callers need handle only that. */
export class ScenarioError extends ManifestError {
  constructor(source: string, issues: readonly string[]) {
    super(source, issues);
    this.message = `${source} is not a valid scenario:\n${issues.map((i) => `  - ${i}`).join('\n')}`;
  }
}

/**
 * Parses and validates a YAML scenario, including the job it embeds and the faults' node
 * names. Throws {@link ScenarioError} listing every problem as `field.path: expected ...;
 * found ...`; `source` names the file in the message.
 */
export function parseScenario(yamlText: string, source = 'scenario', options: { baseDir?: string } = {}): Scenario {
  let value: unknown;
  try {
    value = parseManifestYaml(yamlText, source);
  } catch (err) {
    if (err instanceof ManifestError) throw new ScenarioError(source, err.issues.map((i) => i.replace(/:$/, '')));
    throw err;
  }
  return validateScenario(value, source, options);
}

/**
 * Validates an already-parsed scenario object (see {@link parseScenario}). Paths in `data`
 * are relative to `baseDir`, by default the directory of `source`.
 */
export function validateScenario(value: unknown, source = 'scenario', options: { baseDir?: string } = {}): Scenario {
  const result = Scenario.safeParse(value);
  if (!result.success) throw new ScenarioError(source, formatZodIssues(result.error.issues, value));
  const baseDir = resolve(options.baseDir ?? dirname(source));
  const artifact = compileScenarioArtifact(result.data, baseDir);
  if (artifact && 'problems' in artifact) throw new ScenarioError(source, artifact.problems);
  let scenario: Scenario;
  if (artifact && result.data.data) {
    const { apiVersion: _v, kind: _k, ...job } = artifact.compiled.manifest;
    const data = { ...result.data.data, csv: artifact.compiled.rows.files.map((f) => f.path) };
    keepSourceRows(data, artifact.compiled.rows);
    scenario = { ...result.data, job, data };
  } else scenario = result.data as Scenario;
  const problems = checkScenario(scenario);
  if (problems.length > 0) throw new ScenarioError(source, problems);
  return scenario;
}

/** Reads and validates a scenario file. */
export async function loadScenario(path: string): Promise<Scenario> {
  return parseScenario(await readFile(path, 'utf8'), path, { baseDir: dirname(path) });
}
