import { createServer } from 'node:net';
import { join } from 'node:path';
import { CanopyNode } from '@canopy/core/runtime';
import { AppApi } from '@canopy/core/app';
import { canopyNodePort, createAppLog } from '@canopy/core/app';
import { createOwnerRelay } from '@canopy/core/app';
import { loadAppSettings, saveAppSettings, startupBackend, type AppSettings } from '@canopy/core/app';
import { serveApi } from '@canopy/core/app';
import { CallFrame } from '@canopy/core/app/contract';
import { mlCompute } from '@canopy/core/compute';
import { DEFAULT_PORT, defaultListen } from '@canopy/core/runtime';
import { connectGpuWindow, type GpuParentPort } from './gpu/connectGpuWindow.js';
import { followOwnerActivity } from './idle/followOwnerActivity.js';

// Runs in Electron's utility process (a separate OS process), so training never blocks the
// window. It hosts the node and serves the app contract to main over the parent port.

/** The parent port of a utility process, as this script uses it. */
type ParentPort = GpuParentPort;

/** Options of {@link hostNode}. */
export interface HostNodeOptions {
  /** Multiaddrs to listen on; default: the node's defaults. */
  readonly listen?: readonly string[];
  /** Echo the node's log to stderr (main's console). Default true. */
  readonly echoLog?: boolean;
  /** How long to wait for the GPU window (see connectGpuWindow). Default 30 s. */
  readonly gpuWaitMs?: number;
}

/** A hosted node; `stop` ends the session and the node (the utility process then exits). */
export interface HostedNode {
  stop(): Promise<void>;
}

/** Starts a node under `dataDir` and serves the app contract on `port`. */
export async function hostNode(port: ParentPort, dataDir: string, opts: HostNodeOptions = {}): Promise<HostedNode> {
  const appLog = createAppLog(process.env.CANOPY_LOG ?? 'info', opts.echoLog ?? true);
  // The owner answers in the app: which jobs to join, and whether to download their data.
  const owner = createOwnerRelay();
  // The owner's roles, limits and backend pin from the last session.
  const settings = await loadAppSettings(dataDir);
  const backend = startupBackend(settings.backend);
  // WebGPU and WebGL train in main's hidden GPU window, when the pin and limits allow it and
  // the window finds a hardware GPU; aggregation stays here, on deterministic wasm kernels.
  const gpu = await connectGpuWindow(port, settings, {
    fallback: () => mlCompute({ threads: settings.limits.threads, backend }),
    log: (msg, fields) => appLog.log.info(fields ?? {}, msg),
    ...(opts.gpuWaitMs !== undefined ? { waitMs: opts.gpuWaitMs } : {}),
  });
  // Like `canopy node`: every interface on Canopy's port (TCP 4001, WebSockets 4002), with NAT
  // traversal (AutoNAT, relay slots, hole punching, UPnP), so peers on other machines reach it.
  // When another program has those ports, any free ports instead (the Node screen shows the
  // addresses). Given listen addresses (tests) mean a node on this machine only.
  const free = opts.listen ? true : (await portFree(DEFAULT_PORT)) && (await portFree(DEFAULT_PORT + 1));
  if (!free) appLog.log.warn({ port: DEFAULT_PORT }, 'the Canopy port is taken by another program; listening on free ports instead');
  const node = new CanopyNode({
    dataDir,
    listen: opts.listen ?? defaultListen(free ? DEFAULT_PORT : 0),
    nat: !opts.listen,
    log: appLog.log,
    consent: owner.consent,
    invite: owner.invite,
    computeThreads: settings.limits.threads,
    backend,
    ...(gpu.compute ? { compute: gpu.compute } : {}),
  });
  // "Only while idle": main watches the owner's activity while the limit is on. Asked before
  // the node starts, so that main's first report usually lands before resumed jobs train.
  const activity = followOwnerActivity(port, node, settings.limits.idleOnly);
  await node.start();
  // The networks the owner joined in earlier sessions; one that answers no more is a warning.
  for (const network of settings.networks ?? []) {
    void node.joinNetwork(network).catch((err: Error) => appLog.log.warn({ network: network.name, err: err.message }, 'could not rejoin a network yet'));
  }
  // Each saved change of the limit applies at once.
  const saveSettings = (s: AppSettings) => {
    activity.setIdleOnly(s.limits.idleOnly);
    return saveAppSettings(dataDir, s);
  };
  const api = new AppApi(canopyNodePort(node, { appLog, owner, pinned: settings.backend, gpuWindow: gpu.report }), { roles: settings.roles, limits: settings.limits, ...(settings.networks ? { networks: settings.networks } : {}), saveSettings });
  const session = serveApi(api, (frame) => port.postMessage(frame));
  port.on('message', ({ data }) => {
    const frame = CallFrame.safeParse(data);
    if (frame.success) void session.call(frame.data);
  });
  return {
    async stop() {
      session.close();
      api.close();
      await node.stop();
    },
  };
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (parentPort) {
  const dataDir = process.argv[2] ?? join(process.cwd(), '.canopy');
  hostNode(parentPort, dataDir)
    .then((hosted) => process.once('SIGTERM', () => void hosted.stop().finally(() => process.exit(0))))
    .catch((err: unknown) => {
      process.stderr.write(`canopy node failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}

// Whether a TCP port is free on every interface (a listener there succeeds and is closed again).
function portFree(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(p, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}
