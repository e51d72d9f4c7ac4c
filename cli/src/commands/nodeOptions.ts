import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { DatasetSpec } from '@canopy/core/ml';
import { ManifestError, BadInputError } from '@canopy/core/util';
import { loadConsentPolicy, type ConsentMode } from '@canopy/core/node/consent';

// Flag handling shared by `canopy node` and `canopy local`.

/** The consent mode from `--approve-datasets` / `--consent-policy`. */
export async function consentFromFlags(flags: { approveDatasets?: boolean; consentPolicy?: string }): Promise<ConsentMode> {
  if (flags.approveDatasets && flags.consentPolicy) throw new BadInputError('give either --approve-datasets or --consent-policy, not both');
  if (flags.approveDatasets) return { kind: 'approve-all' };
  if (flags.consentPolicy) return loadConsentPolicy(flags.consentPolicy);
  return { kind: 'none' };
}

/** A dataset spec from `--local-data`: inline JSON, or a YAML/JSON file. */
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
    raw = parseDocument(text).toJS();
  }
  const parsed = DatasetSpec.safeParse(raw);
  if (!parsed.success) throw new ManifestError('--local-data', parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`));
  return parsed.data;
}
