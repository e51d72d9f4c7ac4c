import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYamlDocument, compileArtifact, type ArtifactManifestInput } from '../../core/src/artifacts/index.js';
import { Workbench, artifact, step, where } from '../../cli/src/workbench.js';
import { startTestCluster, type TestCluster } from './cluster.js';

// `canopy artifact submit|status|result` and the workbench against a running cluster of
// real `canopy node` processes, each site registering its CSV file with --dataset and the
// hub serving results with --serve-results.

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'cli/bin/canopy.js');
const canopy = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
const lastJson = <T>(stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as T;

const example = parseYamlDocument(readFileSync(join(root, 'examples/artifacts/csv-stats.yaml'), 'utf8'), 'csv-stats.yaml') as ArtifactManifestInput;
const sites = ['site-1', 'site-2', 'site-3', 'site-4', 'site-5'];

describe('canopy artifact and the workbench', { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let peers: ArtifactManifestInput['peers'];

  beforeAll(async () => {
    cluster = await startTestCluster(compileArtifact(example), (name) => [
      '--approve-datasets',
      '--compute',
      'synthetic',
      ...(sites.includes(name) ? ['--dataset', `patients=${join(root, 'examples/artifacts/data', `${name}.csv`)}`] : []),
      ...(name === 'hub' ? ['--serve-results'] : []),
    ]);
    peers = cluster.plan.manifest.peers;
  }, 120_000);
  afterAll(async () => cluster?.stop());

  it('the workbench builds, submits, follows and fetches an artifact', async () => {
    const wb = new Workbench({ peer: [cluster.plan.root.addr], keyDir: join(cluster.dir, 'submitter'), loopbackCluster: true });
    const a = artifact({
      name: 'wb-bmi',
      data: { dataset: 'patients' },
      privacy: { minGroupSize: 10 },
      allowResultDownload: true,
      timing: { heartbeatSeconds: 1, roundDeadlineSeconds: 60 },
      steps: [step.filter(where('sex', '==', 'F'), where('age', '<', 40)), step.count('young-women'), step.stats('bmi', ['mean', 'min', 'max'])],
      cluster: example.cluster,
      peers,
    });
    const seen: string[] = [];
    const { rootId } = await wb.submit(a);
    const end = await wb.wait(rootId, (s) => seen.push(s.state));
    expect(end.state).toBe('finished');
    const r = await wb.result(rootId);
    // Centralised, with the same guard: a site with fewer than 10 such rows refuses.
    const bySite = sites.map((site) => ({
      site,
      rows: readFileSync(join(root, 'examples/artifacts/data', `${site}.csv`), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')).filter(([age, sex]) => sex === 'F' && Number(age) < 40),
    }));
    const answering = bySite.filter((x) => x.rows.length >= 10);
    const young = answering.flatMap((x) => x.rows);
    expect(r.complete).toBe(true);
    expect(r.steps[0]).toMatchObject({ kind: 'count', count: young.length, members: answering.map((x) => x.site) });
    expect(r.steps[0]!.kind === 'count' && r.steps[0]!.refusals.map((x) => x.member)).toEqual(bySite.filter((x) => x.rows.length < 10).map((x) => x.site));
    expect(r.steps[1]).toMatchObject({ kind: 'stats', values: { min: Math.min(...young.map((x) => Number(x[2]))), max: Math.max(...young.map((x) => Number(x[2]))) } });
    expect(seen.at(-1)).toBe('finished');
  });

  it('canopy artifact submit, status and result', () => {
    const file = join(cluster.dir, 'cli.json');
    const doc = { ...example, name: 'cli-stats', peers };
    writeFileSync(file, JSON.stringify(doc));
    const sub = canopy('artifact', 'submit', file, '--key-dir', join(cluster.dir, 'submitter'), '--wait', '--json');
    expect(sub.status, sub.stderr.slice(-2000)).toBe(0);
    const { rootId } = JSON.parse(sub.stdout.trim().split('\n')[0]!) as { rootId: string };
    const status = canopy('artifact', 'status', rootId, '--peer', cluster.plan.root.addr, '--json');
    expect(status.status, status.stderr).toBe(0);
    expect(lastJson<{ state: string; round: number; totalRounds: number }>(status.stdout)).toMatchObject({ state: 'finished', round: 1, totalRounds: 1 });
    const result = canopy('artifact', 'result', rootId, '--peer', cluster.plan.root.addr, '--json');
    expect(result.status, result.stderr).toBe(0);
    const r = lastJson<{ steps: { kind: string; count?: number; members: string[] }[] }>(result.stdout);
    expect(r.steps[0]!.members).toEqual(sites);
    expect(lastJson(sub.stdout)).toEqual(r);
  });

  it('refuses to download a result the artifact does not allow', async () => {
    const wb = new Workbench({ peer: [cluster.plan.root.addr], keyDir: join(cluster.dir, 'submitter'), loopbackCluster: true });
    const { rootId } = await wb.submit({ ...example, name: 'private-stats', allowResultDownload: false, peers });
    const end = await wb.wait(rootId);
    expect(end).toMatchObject({ state: 'finished', downloadable: false });
    const result = canopy('artifact', 'result', rootId, '--peer', cluster.plan.root.addr);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/does not allow its result to be downloaded \(allowResultDownload is false\)/);
  });

  it('refuses a malformed artifact before submitting anything', () => {
    const file = join(cluster.dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ ...example, name: 'bad', steps: [{ kind: 'stats', column: 'bmi', ops: ['median'] }], peers }));
    const sub = canopy('artifact', 'submit', file);
    expect(sub.status).toBe(1);
    expect(sub.stderr).toMatch(/steps\[0\]\.ops\[0\]: /);
  });
});
