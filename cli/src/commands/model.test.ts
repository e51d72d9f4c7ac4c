import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel, decodeParams, initBackend, loadDataset, ModelSpec, setParams } from '@canopy/core/ml';

// A researcher's round trip: a LeNet-5 model.json trains through `canopy fedavg`, is exported
// with `canopy model export`, and loads in plain tfjs from the written files, predicting the
// classes Canopy's own evaluation predicts.
const bin = fileURLToPath(new URL('../../bin/canopy.js', import.meta.url));
const lenet = fileURLToPath(new URL('../../../examples/models/lenet5.json', import.meta.url));
function canopy(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What tf.loadLayersModel('file://dir/model.json') does with tfjs-node, from the files alone. */
function fileHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
      const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
      const all = Buffer.concat(buffers);
      return { modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) };
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'canopy-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('canopy model export', () => {
  it('LeNet-5 from model.json trains through canopy fedavg, exports, and tfjs predicts the same classes on the test set', async () => {
    const blob = join(dir, 'final.cnpy');
    const run = canopy('fedavg', '--model', lenet, '--clients', '3', '--rounds', '2', '--lr', '0.05', '--momentum', '0.9', '--seed', '1', '--save-model', blob, '--json');
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { rounds: number; accuracy: number };
    expect(summary.rounds).toBe(2);
    expect(summary.accuracy).toBeGreaterThan(0.9);

    const out = join(dir, 'export');
    const exported = canopy('model', 'export', blob, '--out', out, '--json');
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toEqual({ out, kind: 'keras', params: 61_706, layers: 9 });

    await initBackend('wasm');
    const spec = ModelSpec.parse(JSON.parse(readFileSync(`${blob}.spec.json`, 'utf8')));
    const data = await loadDataset({ kind: 'mnist', testFraction: 0.2 }, { seed: 1 });
    const x = tf.tensor(data.test.features, [data.test.count, 28, 28, 1]);
    const ours = createModel(spec, 0);
    setParams(ours, decodeParams(readFileSync(blob), spec).params);
    const canopyClasses = tf.tidy(() => Array.from(ours.logits(x).argMax(1).dataSync()));
    const loaded = await tf.loadLayersModel(fileHandler(out));
    const tfjsClasses = tf.tidy(() => Array.from((loaded.predict(x) as tf.Tensor).argMax(1).dataSync()));
    expect(tfjsClasses).toEqual(canopyClasses);
    const correct = tfjsClasses.filter((c, i) => c === data.test.labels[i]).length;
    expect(correct / data.test.count).toBeCloseTo(summary.accuracy, 10);
    tf.dispose(x);
    ours.dispose();
    loaded.dispose();
  }, 600_000);

  it('refuses a blob made for another model, a missing spec and a corrupt blob, each in one line', () => {
    const blob = join(dir, 'logreg.cnpy');
    expect(canopy('fedavg', '--model', 'logreg', '--clients', '2', '--rounds', '1', '--save-model', blob).code).toBe(0);
    const otherSpec = join(dir, 'other.json');
    writeFileSync(otherSpec, JSON.stringify({ kind: 'mlp', inputShape: [28, 28, 1], numClasses: 10 }));
    const cases: [string[], RegExp][] = [
      [['--spec', otherSpec], /^canopy: parameter blob was made for another model/],
      [['--spec', join(dir, 'none.json')], /^canopy: cannot read the model spec .*none\.json: ENOENT/],
    ];
    for (const [extra, message] of cases) {
      const r = canopy('model', 'export', blob, '--out', join(dir, 'x'), ...extra);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const bytes = readFileSync(blob);
    bytes[bytes.length - 40] ^= 0xff;
    writeFileSync(join(dir, 'corrupt.cnpy'), bytes);
    writeFileSync(join(dir, 'corrupt.cnpy.spec.json'), readFileSync(`${blob}.spec.json`));
    const r = canopy('model', 'export', join(dir, 'corrupt.cnpy'), '--out', join(dir, 'y'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^canopy: parameter blob failed its sha256 checksum; it is corrupt\n$/);
  }, 300_000);

  it('canopy fedavg names the layer when a model.json does not fit the data', () => {
    const bad = JSON.parse(readFileSync(lenet, 'utf8')) as { modelTopology: { config: { layers: { config: Record<string, unknown> }[] } } };
    bad.modelTopology.config.layers[7]!.config.units = 5;
    const file = join(dir, 'five.json');
    writeFileSync(file, JSON.stringify(bad));
    const r = canopy('fedavg', '--model', file, '--rounds', '1');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^canopy: model topology: output layer 'output' gives 5 scores but the data has 10 classes\n$/);
  }, 120_000);
});
