import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { decodeParams, exportLayersModel, kerasGraph, ModelSpec, paramCount } from '@canopy/core/ml';
import { formatZodIssues, parseManifestYaml } from '@canopy/core/protocol';
import { BadInputError, ManifestError } from '@canopy/core/util';
import { createOutput } from '../output.js';

/** `canopy model`: what to do with a trained model. */
export function modelCommand(): Command {
  const model = new Command('model').summary('export a trained model for other tools');
  model
    .command('export')
    .summary('write a parameter blob as a tfjs Layers model (model.json + weights.bin)')
    .description(
      'Writes the model a Canopy parameter blob (CNPY: `canopy fedavg --save-model`, `canopy job download`)\n' +
        'holds as a tfjs Layers model: <out>/model.json and <out>/weights.bin, which tf.loadLayersModel\n' +
        'loads and tensorflowjs_converter --input_format tfjs_layers_model turns into Keras.\n' +
        'The model spec comes from --spec (a job manifest, a scenario or a spec JSON), else from\n' +
        '<blob>.spec.json next to the blob. Its outputs are softmax probabilities.\n\n' +
        'Example:\n' +
        '  canopy fedavg --model examples/models/lenet5.json --rounds 2 --save-model final.cnpy\n' +
        '  canopy model export final.cnpy --out lenet5-trained',
    )
    .argument('<params>', 'the parameter blob (CNPY)')
    .requiredOption('--out <dir>', 'directory to write model.json and weights.bin to (created if missing)')
    .option('--spec <file>', 'the model spec: a job manifest or scenario (its model), or a model spec as JSON/YAML (default: <params>.spec.json)')
    .option('--json', 'print one JSON line describing what was written', false)
    .action(async (params: string, flags: { out: string; spec?: string; json: boolean }) => {
      const out = createOutput({ json: flags.json });
      const specFile = flags.spec ?? `${params}.spec.json`;
      const spec = await readSpec(specFile);
      const bytes = await readBytes(params);
      const decoded = decodeParams(bytes, spec);
      const files = exportLayersModel(spec, decoded.params);
      await mkdir(flags.out, { recursive: true });
      await writeFile(join(flags.out, 'model.json'), `${JSON.stringify(files.modelJson)}\n`);
      await writeFile(join(flags.out, 'weights.bin'), files.weights);
      const layers = spec.kind === 'keras' ? kerasGraph(spec).layers.length : undefined;
      out.say(`wrote ${join(flags.out, 'model.json')} and weights.bin: ${spec.kind}${layers === undefined ? '' : ` (${layers} layers)`}, ${paramCount(spec).toLocaleString('en')} parameters`);
      out.record({ out: flags.out, kind: spec.kind, params: paramCount(spec), ...(layers === undefined ? {} : { layers }) });
    });
  return model;
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (err) {
    throw new BadInputError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** The model spec in a file: a manifest's or scenario's `model`, or a spec itself. */
async function readSpec(file: string): Promise<ModelSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BadInputError(`cannot read the model spec ${file}: ${code ?? String(err)}${code === 'ENOENT' ? ' (give it with --spec)' : ''}`);
  }
  const value = parseManifestYaml(text, file) as Record<string, unknown> | null;
  const job = value?.job as Record<string, unknown> | undefined;
  const candidate = value?.model ?? job?.model ?? value;
  const r = ModelSpec.safeParse(candidate);
  if (!r.success) throw new ManifestError(file, formatZodIssues(r.error.issues, candidate));
  return r.data;
}
