import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatasetSpec } from '@canopy/core/ml';
import { parseManifestYaml } from '@canopy/core/protocol';
import { ManifestError, BadInputError } from '@canopy/core/util';
import { loadConsentPolicy, multiaddr, type ConsentMode } from '@canopy/core/runtime';
import { INVITE_PREFIX, NetworkFileError, parseNetwork, type Network } from '@canopy/core/net';

// Flag handling shared by `canopy node`, `canopy id` and `canopy local`.

/** Where `canopy node` and `canopy id` keep a node's identity and state unless told otherwise. */
export const DEFAULT_DATA_DIR = join(homedir(), '.canopy', 'node');

/** The consent mode from `--approve-datasets` / `--consent-policy`. */
export async function consentFromFlags(flags: { approveDatasets?: boolean; consentPolicy?: string }): Promise<ConsentMode> {
  if (flags.approveDatasets && flags.consentPolicy) throw new BadInputError('give either --approve-datasets or --consent-policy, not both');
  if (flags.approveDatasets) return { kind: 'approve-all' };
  if (flags.consentPolicy) return loadConsentPolicy(flags.consentPolicy);
  return { kind: 'none' };
}

/** A dataset spec from `--local-data`: inline JSON, or a YAML/JSON file. */
/** Checks that every value of a multiaddr flag parses, so a typo fails at start with its flag named. */
export function checkMultiaddrs(flag: string, values: readonly string[] | undefined): string[] | undefined {
  for (const v of values ?? []) {
    try {
      multiaddr(v);
    } catch (err) {
      throw new BadInputError(`${flag} ${v}: not a multiaddr (${err instanceof Error ? err.message : String(err)}); expected e.g. /ip4/127.0.0.1/tcp/4001`);
    }
  }
  return values === undefined ? undefined : [...values];
}

export async function localDatasetFromFlag(value: string | undefined): Promise<DatasetSpec | undefined> {
  if (value === undefined) return undefined;
  let raw: unknown;
  if (value.trim().startsWith('{')) {
    try {
      raw = JSON.parse(value);
    } catch {
      throw new BadInputError(`--local-data: "${value.slice(0, 60)}" is not valid JSON`);
    }
  } else {
    const text = await readFile(value, 'utf8').catch(() => {
      throw new BadInputError(`--local-data: cannot read ${value}; give a file or inline JSON such as '{"kind":"csv","path":"data.csv","labelColumn":"label"}'`);
    });
    raw = parseManifestYaml(text, value);
  }
  const parsed = DatasetSpec.safeParse(raw);
  if (!parsed.success) throw new ManifestError('--local-data', parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`));
  return parsed.data;
}

/**
 * Named datasets from `--dataset name=file.csv` (repeatable): what artifacts name in
 * `data.dataset`. Each file must be readable now, so a typo fails at start, not mid-job.
 */
export async function datasetsFromFlags(values: readonly string[] | undefined): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    const name = eq > 0 ? v.slice(0, eq) : '';
    const file = eq > 0 ? v.slice(eq + 1) : '';
    if (!/^[A-Za-z0-9._-]+$/.test(name) || file === '') throw new BadInputError(`--dataset ${v}: expected <name>=<file.csv>, the name made of letters, digits and . _ -`);
    if (out.has(name)) throw new BadInputError(`--dataset: the name "${name}" is given twice`);
    await access(file, constants.R_OK).catch((err: NodeJS.ErrnoException) => {
      throw new BadInputError(`--dataset ${name}=${file}: cannot read the file (${err.code ?? err.message})`);
    });
    out.set(name, resolve(file));
  }
  return out;
}

/** The network of `--network`: an invite link, or a network file (YAML/JSON) to read. */
export async function loadNetwork(value: string, label = '--network'): Promise<Network> {
  if (value.trim().startsWith(INVITE_PREFIX)) return parseNetwork(value, label);
  const text = await readFile(value, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new NetworkFileError(`${label} ${value}: cannot read the file (${err.code ?? err.message}); give a network file or an invite link ${INVITE_PREFIX}…`);
  });
  return parseNetwork(text, value);
}
