import { readFile } from 'node:fs/promises';
import { parse as parseYamlValue, stringify } from 'yaml';
import { parseManifestYaml } from '@canopy/core/protocol';
import { BadInputError } from '@canopy/core/util';

// `--set path.to.field=value` on every command that reads a manifest, an artifact or a
// scenario. Overrides apply to the parsed document before it is validated, so a bad value is
// reported by the same validator, naming the same field, as if it were in the file.

/** One `--set`: where, and the value as YAML (`10`, `true`, `adam`, `{kind: adam, lr: 0.001}`, `[1, 2]`). */
export interface Override {
  readonly path: readonly (string | number)[];
  readonly value: unknown;
  /** As given, for error messages. */
  readonly text: string;
}

/** Most `--set`s a command takes, and the longest one. */
const MAX_SETS = 64;
const MAX_SET_LENGTH = 4096;

/** Parses `path.to.field=value` (array elements as `clusters[0]` or `clusters.0`). */
export function parseOverride(text: string): Override {
  if (text.length > MAX_SET_LENGTH) throw new BadInputError(`--set: longer than ${MAX_SET_LENGTH} characters`);
  const eq = text.indexOf('=');
  if (eq <= 0) throw new BadInputError(`--set ${text}: expected path.to.field=value, e.g. --set stop.rounds=20`);
  const pathText = text.slice(0, eq).trim();
  const path: (string | number)[] = [];
  for (const part of pathText.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m || (m[1] === '' && m[2] === '')) throw new BadInputError(`--set ${text}: "${pathText}" is not a field path (names separated by dots, array elements as name[0])`);
    if (m[1] !== '') path.push(/^\d+$/.test(m[1]!) ? Number(m[1]) : m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) path.push(Number(idx[1]));
  }
  if (path.some((p) => p === '__proto__' || p === 'constructor' || p === 'prototype')) throw new BadInputError(`--set ${text}: "${pathText}" names no field`);
  let value: unknown;
  try {
    value = parseYamlValue(text.slice(eq + 1), { maxAliasCount: 0 });
  } catch (err) {
    throw new BadInputError(`--set ${text}: the value is not valid YAML (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
  }
  return { path, value: value === undefined ? null : value, text };
}

/** Collects repeated `--set` flags for commander. */
export function collectOverride(value: string, previous: Override[] = []): Override[] {
  if (previous.length >= MAX_SETS) throw new BadInputError(`--set: at most ${MAX_SETS} overrides`);
  return [...previous, parseOverride(value)];
}

/**
 * Applies overrides to a parsed document, in order, without changing it. A missing object
 * field is created; an array index may be at most the array's length (which appends); going
 * through a value that is not an object or array is an error naming the path.
 */
export function applyOverrides(doc: unknown, overrides: readonly Override[]): unknown {
  let out = doc;
  for (const o of overrides) out = setAt(out, o.path, o.value, o);
  return out;
}

function setAt(node: unknown, path: readonly (string | number)[], value: unknown, o: Override, depth = 0): unknown {
  if (depth === path.length) return value;
  const key = path[depth]!;
  const where = () => path.slice(0, depth).map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '') || '(top level)';
  if (typeof key === 'number') {
    if (node === undefined || node === null) node = [];
    if (!Array.isArray(node)) throw new BadInputError(`--set ${o.text}: ${where()} is not a list, so it has no element [${key}]`);
    if (key > node.length) throw new BadInputError(`--set ${o.text}: ${where()} has ${node.length} elements, so [${key}] is out of range`);
    const copy = [...node];
    copy[key] = setAt(node[key], path, value, o, depth + 1);
    return copy;
  }
  if (node === undefined || node === null) node = {};
  if (typeof node !== 'object' || Array.isArray(node)) throw new BadInputError(`--set ${o.text}: ${where()} is not a mapping, so it has no field "${key}"`);
  const rec = node as Record<string, unknown>;
  return { ...rec, [key]: setAt(Object.hasOwn(rec, key) ? rec[key] : undefined, path, value, o, depth + 1) };
}

/**
 * Reads a YAML document file and applies overrides. Without overrides the text is returned
 * as it is (so a manifest's signed bytes do not change); with them, the overridden document
 * as YAML text, which the command then parses and validates as usual.
 */
export async function readDocumentText(file: string, overrides: readonly Override[] = [], what = 'file'): Promise<string> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new BadInputError(`cannot read the ${what} ${file}: ${err.code ?? err.message}`);
  });
  if (overrides.length === 0) return text;
  return stringify(applyOverrides(parseManifestYaml(text, file), overrides), { aliasDuplicateObjects: false });
}
