import { allMembers, createMachines, type JobTree, type Machine, type Message } from '@canopy/core/protocol';
import { Rng, hash32 } from '@canopy/core/util';
import { assignProfiles, type DeviceProfile } from '../engine/devices.js';
import { endpoint, type Endpoint } from '../engine/network.js';
import type { Scenario } from '../scenario/scenario.js';
import { Availability } from './availability.js';

// The virtual nodes of a run: each member of the job tree with its machines (one per role
// per job, exactly as a real node creates them), its device, and its liveness.

/** A machine as the shell holds it, with its timers and its random stream. */
export interface Slot {
  readonly machine: Machine;
  /** Generation of each timer id; a firing whose generation is stale was replaced or cancelled. */
  readonly timers: Map<string, number>;
  rng: Rng | undefined;
  /** This machine's last accepted message of each type, as receivers decoded it (see SimShell.encode). */
  lastAccepted?: Map<string, { readonly topic: string; readonly bytes: number; readonly reason: string; readonly message: Message }>;
}

/** One virtual node. */
export interface Peer {
  readonly id: string;
  slots: Slot[];
  readonly profile: DeviceProfile;
  /** Its end of the modelled network (capacity from the profile, and its uplink's queue). */
  readonly link: Endpoint;
  /** Null for nodes that are always there (hosts, the distributor). */
  readonly availability: Availability | null;
  /** Per-round crash probability while training (clients only). */
  readonly crashPerRound: number;
  /** Position among all leaf clients in tree order (-1 for others): seeds its shuffling. */
  readonly shard: number;
  /** Bumped on every crash and restart: events scheduled before are dropped. */
  epoch: number;
  /** Down until restarted (a crash, not a device sleeping). */
  down: boolean;
  /** For a client that crashed while training: the job and round it crashed in. */
  crashedIn: { job: string; round: number } | null;
}

/** Wraps machines in slots. */
export function slotsOf(machines: readonly Machine[]): Slot[] {
  return machines.map((machine) => ({ machine, timers: new Map(), rng: undefined }));
}

/**
 * Creates every node of the tree. Profiles are drawn by share (hosts and workers may be
 * pinned to one); clients and workers get availability traces and clients crash rates, while
 * hosts stay up unless the scenario crashes them: they are the job's infrastructure.
 */
export function createPeers(tree: JobTree, scenario: Scenario, seed: number, now = 0): Map<string, Peer> {
  const rng = Rng.fromSeed(seed);
  const members = allMembers(tree);
  const drawn = assignProfiles(members, scenario.devices.profiles, rng.fork('profiles'));
  const byName = new Map(scenario.devices.profiles.map((p) => [p.name, p]));
  const hosts = new Set<string>();
  const workers = new Set<string>();
  const clients = new Set<string>();
  for (const node of tree.jobs.values()) {
    hosts.add(node.host);
    for (const w of node.workers) workers.add(w);
    if (node.leaf) for (const c of node.clients) clients.add(c.id);
  }
  const crashOverride = scenario.faults.clientCrashPerRound;
  const peers = new Map<string, Peer>();
  for (const id of members) {
    const isHost = hosts.has(id) || id === tree.distributor;
    const pinned = hosts.has(id) ? scenario.devices.hostProfile : workers.has(id) ? scenario.devices.workerProfile : undefined;
    const profile = (pinned !== undefined ? byName.get(pinned) : undefined) ?? drawn.get(id)!;
    const isClient = clients.has(id) && !isHost;
    peers.set(id, {
      id,
      slots: slotsOf(createMachines(tree, id, now)),
      profile,
      link: endpoint(id, profile),
      availability: isHost ? null : new Availability(profile, Rng.fromSeed(hash32(`${seed}:availability:${id}`))),
      crashPerRound: isClient ? (crashOverride ?? profile.crashPerRound) : 0,
      shard: tree.shardIndex.get(id) ?? -1,
      epoch: 0,
      down: false,
      crashedIn: null,
    });
  }
  return peers;
}
