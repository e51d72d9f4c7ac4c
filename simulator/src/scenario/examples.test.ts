import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildJobTree, timingWarnings } from '@canopy/core/protocol';
import { parseScenario } from './scenario.js';
import { scenarioManifest } from './scenarioManifest.js';
import { countCluster, describeScenario } from './describeScenario.js';

// Every shipped scenario must load: they are what `npm start`, the benchmark and the
// acceptance run, and a broken one would surface only there.
const dir = fileURLToPath(new URL('../../../examples/scenarios/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

/** Facts the issue states about particular scenarios. */
const expected: Record<string, { clients: number; depth: number; mode: 'real' | 'synthetic'; params?: number }> = {
  'default.yaml': { clients: 10, depth: 2, mode: 'real' },
  'small-synthetic.yaml': { clients: 8, depth: 2, mode: 'synthetic' },
  'fashion-dirichlet.yaml': { clients: 100, depth: 2, mode: 'real' },
  'faults.yaml': { clients: 30, depth: 2, mode: 'real' },
  'scale-1k.yaml': { clients: 1_000, depth: 3, mode: 'synthetic', params: 10_000 },
  'scale-10k.yaml': { clients: 10_000, depth: 3, mode: 'synthetic', params: 10_000 },
  'scale-50k.yaml': { clients: 50_000, depth: 3, mode: 'synthetic', params: 10_000 },
  'artifact-csv-stats.yaml': { clients: 20, depth: 2, mode: 'real' },
  'dp-synthetic.yaml': { clients: 200, depth: 1, mode: 'synthetic', params: 1_000 },
};

describe('examples/scenarios', () => {
  it('ships every scenario the issue names', () => {
    expect(files).toEqual(expect.arrayContaining(Object.keys(expected)));
  });

  for (const file of files) {
    it(`${file} parses and yields a valid manifest`, () => {
      // Paths in a scenario (an artifact's `data.csv`) are relative to its file.
      const scenario = parseScenario(readFileSync(dir + file, 'utf8'), file, { baseDir: dir });
      expect(scenario.name, file).toBe(file.replace(/\.yaml$/, ''));
      const manifest = scenarioManifest(scenario);
      // Every shipped tree gives a sub-cluster time to retry a round before its parent gives up.
      expect(timingWarnings(buildJobTree(manifest)), file).toEqual([]);
      const want = expected[file];
      if (!want) return;
      const counts = countCluster(manifest.cluster);
      expect(counts.clients, file).toBe(want.clients);
      expect(counts.depth, file).toBe(want.depth);
      expect(scenario.training.mode, file).toBe(want.mode);
      if (want.params !== undefined && scenario.training.mode === 'synthetic') expect(scenario.training.params, file).toBe(want.params);
    });
  }

  it('fashion-dirichlet samples 10% of clients per round under Dirichlet 0.5', () => {
    const s = parseScenario(readFileSync(`${dir}fashion-dirichlet.yaml`, 'utf8'));
    expect(s.job.dataset.partition).toEqual({ kind: 'dirichlet', alpha: 0.5 });
    expect(s.job.model.kind).toBe('2nn');
    const leaf = scenarioManifest(s).cluster.clusters?.[0];
    expect(leaf?.timing?.sampleFraction).toBe(0.1);
    expect(describeScenario(s).find((p) => p.label === 'Sampling')?.value).toBe('level 0: 100% sampled, quorum 100%; level 1: 10% sampled, quorum 100%');
  });

  it('artifact-csv-stats compiles the csv-stats steps over the five site files, sequential regions of collecting clients', () => {
    const s = parseScenario(readFileSync(`${dir}artifact-csv-stats.yaml`, 'utf8'), 'artifact-csv-stats.yaml', { baseDir: dir });
    const m = scenarioManifest(s);
    expect(m.artifact?.steps.map((x) => x.kind)).toEqual(['filter', 'count', 'stats', 'stats', 'histogram']);
    expect(m.cluster.timing?.distribution).toBe('sequential');
    expect(m.cluster.clusters?.[0]?.timing?.distribution).toBe('collect');
    // One analytics phase, one root round per region.
    expect(m.stop.rounds).toBe(4);
    expect(s.data?.csv.map((p) => p.slice(p.lastIndexOf('/') + 1))).toEqual(['site-1.csv', 'site-2.csv', 'site-3.csv', 'site-4.csv', 'site-5.csv']);
    const described = new Map(describeScenario(s).map((p) => [p.label, p.value]));
    expect(described.get('Distribution')).toBe('level 0: sequential; level 1: collect');
    expect(described.get('Data')).toBe('1,410 rows from 5 CSV file(s), split iid (seed 1)');
    // An analytics artifact trains nothing: no model or local training to describe.
    expect(described.has('Model')).toBe(false);
  });

  it('faults crashes 20% of clients and has one liar per cluster', () => {
    const s = parseScenario(readFileSync(`${dir}faults.yaml`, 'utf8'));
    expect(s.faults.clientCrashPerRound).toBe(0.2);
    expect(s.faults.lyingWorkersPerCluster).toBe(1);
  });
});
