import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { BadInputError } from '@canopy/core/util';

/** A `--model` value: a built-in kind, or a Keras / tfjs Layers model.json to read. */
export type ModelArg = string | { readonly file: string };

/** Parses `--model`: one of `kinds`, or a path ending in .json. */
export function modelArg(kinds: readonly string[]) {
  return (value: string): ModelArg => {
    if (kinds.includes(value)) return value;
    if (value.endsWith('.json')) return { file: value };
    throw new InvalidArgumentError(`'${value}' is neither a built-in model (${kinds.join(', ')}) nor a model.json file`);
  };
}

/**
 * The model a `--model` value names: the kind itself, or the topology of a model.json (its
 * `modelTopology`, or the file itself when it is a bare topology). The topology is checked
 * against the data later, when the data's shape is known. Weights in the file are not read:
 * Canopy initialises the model from the job's seed.
 */
export async function readModelArg(arg: ModelArg): Promise<string | { topology: Record<string, unknown> }> {
  if (typeof arg === 'string') return arg;
  let text: string;
  try {
    text = await readFile(arg.file, 'utf8');
  } catch (err) {
    throw new BadInputError(`cannot read model file ${arg.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BadInputError(`model file ${arg.file} is not JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new BadInputError(`model file ${arg.file} is not a model.json (a JSON object)`);
  const inner = (json as Record<string, unknown>).modelTopology;
  return { topology: typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? (inner as Record<string, unknown>) : (json as Record<string, unknown>) };
}
