// Writes the example jobs (examples/jobs/*-mnist.yaml) and scenarios
// (examples/scenarios/*-mnist.yaml) that train this folder's models: each embeds its model's
// topology, since a job travels to peers as one document. Run after make-models.mjs, from the
// repository root: node examples/models/make-examples.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

const models = [
  { file: 'lenet5.json', name: 'lenet5', what: 'LeNet-5 (Sequential, 61,706 parameters)', lr: 0.05 },
  { file: 'resnet-small.json', name: 'resnet-small', what: 'a small residual CNN (functional API with Add and BatchNormalization, 2,618 parameters)', lr: 0.1 },
];

for (const m of models) {
  const topology = JSON.parse(readFileSync(new URL(m.file, import.meta.url), 'utf8')).modelTopology;
  const model = { kind: 'keras', inputShape: [28, 28, 1], numClasses: 10, topology };
  const train = { optimizer: { kind: 'sgd', lr: m.lr, momentum: 0.9 }, epochs: 1, batchSize: 32, seed: 1 };
  const job = {
    apiVersion: 'canopy/v1',
    kind: 'Job',
    name: `${m.name}-mnist`,
    description: `MNIST digits, ${m.what} from examples/models/${m.file}, one cluster of 3 clients, 2 rounds`,
    model,
    train,
    consensus: 'single',
    stop: { rounds: 2 },
    dataset: { source: { kind: 'mnist' }, seed: 1 },
    allowModelDownload: true,
    cluster: { host: 'laptop', workers: ['laptop'], clients: ['alice', 'bob', 'carol'] },
  };
  writeFileSync(
    new URL(`../jobs/${m.name}-mnist.yaml`, import.meta.url),
    `# ${m.what} on the embedded MNIST digits: one cluster, one host that is also the only\n` +
      `# worker, three clients. The model is data: the Keras topology of examples/models/${m.file}\n` +
      `# (written by examples/models/make-examples.mjs), checked against Canopy's layer allow-list\n` +
      `# (docs/PROTOCOL.md §13.5). Run it with: canopy local examples/jobs/${m.name}-mnist.yaml\n` +
      stringify(job, { lineWidth: 0 }),
  );
  const scenario = {
    apiVersion: 'canopy/v1',
    kind: 'Scenario',
    name: `${m.name}-mnist`,
    description: `MNIST digits, ${m.what}, 2 sub-clusters x 2 clients, FedAvg, 2 rounds`,
    job: {
      model,
      train,
      aggregator: { kind: 'fedavg' },
      stop: { rounds: 2 },
      dataset: { source: { kind: 'mnist', testFraction: 0.2 }, partition: { kind: 'iid' }, seed: 1 },
      timing: { roundDeadlineSeconds: 600, quorum: 1 },
      tree: { depth: 2, fanout: 2, clientsPerLeaf: 2, workersPerCluster: 1, levelTiming: [{ roundDeadlineSeconds: 1200 }, { roundDeadlineSeconds: 600 }] },
    },
    // Devices that never crash, sleep or straggle: every client trains every round.
    devices: { profiles: [{ name: 'laptop', share: 1, speed: 1, upMbps: 20, downMbps: 100 }] },
    training: { mode: 'real' },
    repetitions: 1,
    seed: 1,
  };
  writeFileSync(
    new URL(`../scenarios/${m.name}-mnist.yaml`, import.meta.url),
    `# ${m.what} from examples/models/${m.file} on the embedded MNIST digits, trained for real\n` +
      `# in a 2-level tree (written by examples/models/make-examples.mjs).\n` +
      `# Run it with: canopy simulate examples/scenarios/${m.name}-mnist.yaml\n` +
      stringify(scenario, { lineWidth: 0 }),
  );
}
