import { hashJson } from '../util/hash.js';
import { DEFAULT_TIMING, type ClusterSpec, type Manifest, type MemberId, type TimingSpec } from './manifest.js';

// The job tree: every job of a manifest, named `J`, `J#0`, `J#0_1`, ... (DESIGN.md,
// protocol step 1), with who hosts it, who works for it and who its clients are. Both the
// machines and the validators read membership from here, so it is built once per manifest
// and every lookup is O(1).

// Topic names live in the spec layer (the transport and the runtime name topics too).
export { PROTOCOL_VERSION, jobTopic } from '../spec/topics.js';

/** A client slot of a job: a peer at a leaf job, or a sub-job (whose host submits for it). */
export interface ClientSlot {
  /** The client's id inside the job: the peer's member id, or the sub-job's name. */
  readonly id: string;
  /** The member that speaks for this client: the peer itself, or the sub-job's host. */
  readonly peer: MemberId;
  /** Set when the client is a sub-job. */
  readonly subJob?: string;
}

/** One job of the tree. Lists are sorted by id, so every member iterates them in the same order. */
export interface JobNode {
  readonly name: string;
  readonly parent?: string;
  readonly depth: number;
  readonly host: MemberId;
  readonly workers: readonly MemberId[];
  readonly clients: readonly ClientSlot[];
  /** Client ids in the manifest's listed order (the order of a sequential cluster). */
  readonly order: readonly string[];
  readonly clientById: ReadonlyMap<string, ClientSlot>;
  readonly children: readonly string[];
  readonly leaf: boolean;
  /** Timing with inheritance applied: the cluster's own, then its ancestors', then the defaults. */
  readonly timing: Required<TimingSpec>;
}

/** Every job of a manifest, plus the lookups the protocol needs. */
export interface JobTree {
  readonly manifest: Manifest;
  /** sha256 of the manifest's canonical JSON: what every member must agree on. */
  readonly manifestHash: string;
  /** The root job's id in topic names: the manifest's name plus a prefix of its hash. */
  readonly rootId: string;
  /** The root job's name `J`. */
  readonly root: string;
  readonly jobs: ReadonlyMap<string, JobNode>;
  /** The leaf jobs, in tree order. */
  readonly leaves: readonly string[];
  /** Position of each leaf client in tree order, for partitioning the dataset. */
  readonly shardIndex: ReadonlyMap<MemberId, number>;
  readonly distributor?: MemberId;
}

/** Name of the `index`-th sub-job of `parent` (`J` → `J#0`, `J#0` → `J#0_0`). */
export function childJobName(root: string, parent: string, index: number): string {
  return parent === root ? `${root}#${index}` : `${parent}_${index}`;
}

/** Builds the job tree of a validated manifest. */
export function buildJobTree(manifest: Manifest): JobTree {
  const manifestHash = hashJson(manifest);
  const jobs = new Map<string, JobNode>();
  const leaves: string[] = [];
  const shardIndex = new Map<MemberId, number>();
  const root = manifest.name;

  const visit = (spec: ClusterSpec, name: string, parent: string | undefined, depth: number, inherited: Required<TimingSpec>): void => {
    const timing: Required<TimingSpec> = { ...inherited, ...stripUndefined(spec.timing ?? {}) };
    const children = (spec.clusters ?? []).map((_, i) => childJobName(root, name, i));
    const clients: ClientSlot[] = spec.clients
      ? spec.clients.map((id) => ({ id, peer: id }))
      : (spec.clusters ?? []).map((sub, i) => ({ id: children[i]!, peer: sub.host, subJob: children[i]! }));
    const order = clients.map((c) => c.id);
    clients.sort((a, b) => compareIds(a.id, b.id));
    const node: JobNode = {
      name,
      ...(parent === undefined ? {} : { parent }),
      depth,
      host: spec.host,
      workers: [...spec.workers].sort(compareIds),
      clients,
      order,
      clientById: new Map(clients.map((c) => [c.id, c])),
      children,
      leaf: spec.clients !== undefined,
      timing,
    };
    jobs.set(name, node);
    if (node.leaf) {
      leaves.push(name);
      for (const c of spec.clients ?? []) shardIndex.set(c, shardIndex.size);
    }
    spec.clusters?.forEach((sub, i) => visit(sub, children[i]!, name, depth + 1, timing));
  };
  visit(manifest.cluster, root, undefined, 0, { ...DEFAULT_TIMING, ...stripUndefined(manifest.timing) });

  return {
    manifest,
    manifestHash,
    rootId: `${root}-${manifestHash.slice(0, 12)}`,
    root,
    jobs,
    leaves,
    shardIndex,
    ...(manifest.dataset.distributor === undefined ? {} : { distributor: manifest.dataset.distributor }),
  };
}

/** A job of the tree, or a thrown error naming the job (a programming error, not bad input). */
export function jobOf(tree: JobTree, job: string): JobNode {
  const node = tree.jobs.get(job);
  if (!node) throw new Error(`job ${job} is not part of ${tree.root}`);
  return node;
}

/** A role a member plays in one job of the tree. */
export interface MemberRole {
  readonly role: 'host' | 'client' | 'worker' | 'distributor';
  readonly job: string;
}

// Every member's roles, built once per tree: a shell creating every member's machines would
// otherwise scan every job per member (10,000 clients × 111 jobs at the simulator's scale-10k).
const roleIndex = new WeakMap<JobTree, Map<MemberId, MemberRole[]>>();

/**
 * The roles a member plays anywhere in the tree, as `{role, job}` pairs: jobs in tree order,
 * within a job host, worker, client; the distributor last.
 */
export function rolesOf(tree: JobTree, member: MemberId): MemberRole[] {
  let index = roleIndex.get(tree);
  if (!index) {
    const built = new Map<MemberId, MemberRole[]>();
    const add = (m: MemberId, role: MemberRole['role'], job: string) => {
      const list = built.get(m);
      if (list) list.push({ role, job });
      else built.set(m, [{ role, job }]);
    };
    for (const node of tree.jobs.values()) {
      add(node.host, 'host', node.name);
      // A member named twice among a job's workers still plays the role once.
      for (const w of new Set(node.workers)) add(w, 'worker', node.name);
      if (node.leaf) for (const c of node.clientById.keys()) add(c, 'client', node.name);
    }
    if (tree.distributor !== undefined) add(tree.distributor, 'distributor', tree.root);
    roleIndex.set(tree, (index = built));
  }
  return [...(index.get(member) ?? [])];
}

/** Every member id named anywhere in the tree (hosts, workers, leaf clients, distributor), sorted. */
export function allMembers(tree: JobTree): MemberId[] {
  const set = new Set<MemberId>();
  for (const node of tree.jobs.values()) {
    set.add(node.host);
    for (const w of node.workers) set.add(w);
    if (node.leaf) for (const c of node.clients) set.add(c.peer);
  }
  if (tree.distributor) set.add(tree.distributor);
  return [...set].sort(compareIds);
}

/** The one order of member ids every peer uses: plain code-unit order, locale-free. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
