import { Command, Option } from 'commander';
import { CanopyNode } from '@canopy/core/runtime';
import { lyingCompute, mlCompute, syntheticCompute } from '@canopy/core/compute';
import { DEFAULT_PORT, defaultListen } from '@canopy/core/net';
import { CanopyError, ErrorCode, createLog } from '@canopy/core/util';
import { startUiServer, type UiServer } from '@canopy/core/app';
import { canopyNodePort, createAppLog } from '@canopy/core/app';
import { createOwnerRelay } from '@canopy/core/app';
import { intArg } from '../args.js';
import { DEFAULT_DATA_DIR, checkMultiaddrs, consentFromFlags, loadNetwork, datasetsFromFlags, localDatasetFromFlag } from './nodeOptions.js';

const ROLES = ['host', 'client', 'worker', 'distributor'] as const;
const BACKENDS = ['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;

interface NodeFlags {
  role?: (typeof ROLES)[number][];
  dataDir: string;
  listen?: string[];
  port: number;
  wsPort?: number;
  announce?: string[];
  relay: 'auto' | 'on' | 'off';
  relayForSubmitter?: string[];
  nat: boolean;
  bootstrap?: string[];
  network?: string;
  mdns: boolean;
  loopbackCluster: boolean;
  approveDatasets: boolean;
  consentPolicy?: string;
  localData?: string;
  dataset?: string[];
  serveResults: boolean;
  compute: 'ml' | 'synthetic';
  syntheticTrainMs: number;
  syntheticParams?: number;
  computeThreads: number;
  backend: (typeof BACKENDS)[number];
  maxDataMb: number;
  statusEvery: number;
  fault?: 'lie-aggregate';
  ui: boolean;
  uiPort: number;
}

/** `canopy node`: a headless Canopy peer. */
export function nodeCommand(): Command {
  return new Command('node')
    .summary('run a headless Canopy node (host, client, worker or distributor)')
    .description(
      'Runs a peer until interrupted. Jobs reach it by submission (when it is a root host) or by\n' +
        'announcement (when a manifest names it); its roles come from each manifest. Structured logs\n' +
        '(JSON lines) go to stderr; a status line is logged every --status-every seconds.\n' +
        'Consent: clients fetch data only if --consent-policy approves the job, its submitter or its\n' +
        'dataset hash, or with --approve-datasets (test clusters). Every decision is kept as a receipt\n' +
        'under <data-dir>/receipts.',
    )
    .addOption(new Option('--role <role...>', 'roles this node expects to play (informational; manifests assign roles)').choices(ROLES))
    .option('--data-dir <dir>', 'identity, blobs, job state and receipts', DEFAULT_DATA_DIR)
    .option('--listen <multiaddr...>', 'addresses to listen on (default: every interface, TCP on --port and WebSockets on --ws-port)')
    .option('--port <port>', 'TCP port to listen on, on every interface (0: any free port); open it in your firewall', intArg(0, 65_534), DEFAULT_PORT)
    .option('--ws-port <port>', 'WebSockets port (default: --port + 1; 0: any free port)', intArg(0, 65_535))
    .option('--announce <multiaddr...>', 'also advertise these addresses (e.g. your router\'s public address forwarded to this node)')
    .addOption(new Option('--relay <mode>', 'relay for peers behind NAT: auto (once AutoNAT confirms a public address), on (a dedicated relay with a public address; reserves no slots itself), off').choices(['auto', 'on', 'off'] as const).default('auto'))
    .option('--relay-for-submitter <peer id...>', 'as a relay, carry without limits the members of jobs these submitters sign (members of jobs this node takes part in always are)')
    .option('--no-nat', 'no NAT traversal at all: no relay slots, AutoNAT, hole punching, UPnP or DHT (implied by --loopback-cluster)')
    .option('--bootstrap <multiaddr...>', 'peers to connect to at start (with /p2p/<peer id>)')
    .option('--network <file|link>', 'join a network: a network file (YAML/JSON: name, bootstrap, relays) or an invite link canopy://network/…')
    .option('--mdns', 'discover peers on the LAN with mDNS', false)
    .option('--loopback-cluster', 'accept many connections per second from 127.0.0.1 (local clusters)', false)
    .option('--approve-datasets', 'approve every dataset request (test clusters only)', false)
    .option('--consent-policy <file>', 'YAML/JSON policy: approve: {jobs: [...], submitters: [...], datasets: [sha256...]}')
    .option('--local-data <spec>', 'train on this dataset instead of the job\'s (JSON or a YAML file with a dataset spec)')
    .option('--dataset <name=file...>', 'register a CSV file under a name that artifacts can use (docs/ARTIFACTS.md); repeatable')
    .option('--serve-results', 'as a root host, let artifact results be downloaded where the artifact allows it', false)
    .addOption(new Option('--compute <kind>', 'ml: real training on a worker thread; synthetic: stand-in arithmetic (protocol tests)').choices(['ml', 'synthetic'] as const).default('ml'))
    .addOption(new Option('--synthetic-train-ms <ms>', 'with --compute synthetic: how long each training task takes').argParser(intArg(0, 3_600_000)).default(0).hideHelp())
    .addOption(new Option('--synthetic-params <n>', 'with --compute synthetic: parameters per vector (4 bytes each)').argParser(intArg(1, 100_000_000)).hideHelp())
    .option('--compute-threads <n>', 'training threads', intArg(1, 64), 1)
    .addOption(new Option('--backend <name>', 'training backend').choices(BACKENDS).default('auto'))
    .option('--max-data-mb <mb>', 'largest dataset chunk this node downloads', intArg(1, 1 << 20), 512)
    .option('--status-every <s>', 'seconds between status log lines (0: never)', intArg(0, 86_400), 10)
    .option('--ui', 'serve the Canopy UI for this node on 127.0.0.1 (the link with its access token is printed)', false)
    .option('--ui-port <port>', 'port of the UI on 127.0.0.1 (0: any free port)', intArg(0, 65_535), 0)
    .addOption(new Option('--fault <kind>', 'misbehave on purpose (tests of the protocol\'s defences)').choices(['lie-aggregate'] as const).hideHelp())
    .action(async (flags: NodeFlags) => {
      await runNode(flags);
    });
}

// The status line's reachability in words, e.g. "relayed via 12D3KooW…".
function reachabilityLine(node: CanopyNode): string {
  const r = node.reachability();
  return r.status === 'relayed' ? `relayed via ${r.relays.join(', ')}` : r.status;
}

async function runNode(flags: NodeFlags): Promise<void> {
  // With --ui the node's log lines also feed the app's Logs screen.
  const appLog = flags.ui ? createAppLog() : undefined;
  const log = appLog?.log ?? createLog('node');
  // With --ui the owner answers in the app: job invitations always, and dataset consent
  // unless a policy or --approve-datasets already decides it.
  const owner = flags.ui ? createOwnerRelay() : undefined;
  const askOwner = owner !== undefined && !flags.approveDatasets && flags.consentPolicy === undefined;
  const listen = checkMultiaddrs('--listen', flags.listen);
  const bootstrap = checkMultiaddrs('--bootstrap', flags.bootstrap);
  const announce = checkMultiaddrs('--announce', flags.announce);
  const node = new CanopyNode({
    dataDir: flags.dataDir,
    listen: listen ?? defaultListen(flags.port, flags.wsPort),
    ...(announce ? { announce } : {}),
    nat: flags.nat && !flags.loopbackCluster ? { relayServer: flags.relay, ...(flags.relayForSubmitter ? { relayForSubmitters: flags.relayForSubmitter } : {}) } : false,
    ...(bootstrap ? { bootstrap } : {}),
    mdns: flags.mdns,
    loopbackCluster: flags.loopbackCluster,
    consent: askOwner ? owner.consent : await consentFromFlags(flags),
    ...(owner ? { invite: owner.invite } : {}),
    // --fault (hidden) builds the backend itself, wrapped in the fault; otherwise the node does.
    compute: flags.fault === 'lie-aggregate' ? lyingCompute(flags.compute === 'synthetic' ? syntheticCompute({ trainMs: flags.syntheticTrainMs, ...(flags.syntheticParams ? { params: flags.syntheticParams } : {}) }) : mlCompute({ threads: flags.computeThreads, backend: flags.backend }), { log }) : flags.compute,
    syntheticTrainMs: flags.syntheticTrainMs,
    ...(flags.syntheticParams ? { syntheticParams: flags.syntheticParams } : {}),
    computeThreads: flags.computeThreads,
    backend: flags.backend,
    maxDataBytes: flags.maxDataMb * 2 ** 20,
    ...(await localDatasetFromFlag(flags.localData).then((d) => (d ? { localDataset: d } : {}))),
    datasets: await datasetsFromFlags(flags.dataset),
    serveResults: flags.serveResults,
    log,
  });
  const network = flags.network === undefined ? undefined : await loadNetwork(flags.network);
  await node.start().catch((err: unknown) => {
    // A port in use, an address this machine does not have, an unreadable data dir.
    const code = (err as NodeJS.ErrnoException).code;
    throw new CanopyError(ErrorCode.Network, `cannot start the node: ${err instanceof Error ? err.message.split('\n', 1)[0] : String(err)}${code ? ` (${code})` : ''}`, { cause: err });
  });
  if (network) {
    // A network whose peers are all down now may come back: the node keeps running and says so.
    await node.joinNetwork(network).then(
      () => log.info({ network: network.name, reachability: node.reachability() }, 'joined network'),
      (err: Error) => log.warn({ network: network.name, err: err.message }, 'could not join the network yet; running without it'),
    );
  }
  let ui: UiServer | undefined;
  if (flags.ui) {
    // The Node screen lists the network joined with --network; more can be joined there.
    ui = await startUiServer(canopyNodePort(node, { appLog, ...(owner ? { owner } : {}) }), { port: flags.uiPort, ...(network ? { app: { networks: [network] } } : {}) });
    // The token is in the URL's fragment, which browsers never send over the network.
    process.stdout.write(`Canopy UI: ${ui.url}\n`);
  }
  node.events.on('job:started', (d) => {
    const unexpected = flags.role ? d.roles.filter((r) => !flags.role!.includes(r.role)) : [];
    if (unexpected.length > 0) log.warn({ rootId: d.rootId, unexpected }, 'the manifest gives this node roles it was not started for');
  });
  const status = flags.statusEvery > 0 ? setInterval(() => void node.storeBytes().then((storeBytes) => log.info({ jobs: node.jobs(), reachability: reachabilityLine(node), ...node.stats(), storeBytes }, 'status'), () => undefined), flags.statusEvery * 1000) : undefined;
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  clearInterval(status);
  // A second signal while stopping means "now".
  const force = () => process.exit(130);
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  await ui?.stop();
  await node.stop();
  process.exit(0);
}
