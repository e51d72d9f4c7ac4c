import { sha256 } from '@noble/hashes/sha2.js';
import { advertiseKeys, maskInput, revealShares, shareKeys, SECRET_RANDOM_BYTES, type SecAggSecrets } from './secAggClient.js';
import { sumMasked, unmaskSum, type Unmasked } from './secAggServer.js';
import type { KeyAdvert, Reveal, SealedShares, SecAggRound } from './secAggRound.js';

// One whole SecAgg+ round among parties in one process, every message passed as the bytes a
// network would carry: for the property tests, the byte benchmark and the simulator. Who drops
// out when is given, so that every dropout pattern can be replayed.

/** When a member stops answering: before ShareKeys, before sending its masked input, or before Unmasking. */
export type DropPoint = 'beforeShare' | 'beforeMask' | 'beforeReveal';

/** Payload bytes one member sent and received in the round (keys, shares, masked vector, reveals, member sets). */
export interface SecAggBytes {
  sent: number;
  received: number;
}

/** A finished local round: the unmasked sum (or the error that ended the round) and what each party saw. */
export interface LocalRoundResult {
  readonly outcome: Unmasked | { error: Error };
  readonly adverts: readonly KeyAdvert[];
  readonly u2: readonly string[];
  readonly u3: readonly string[];
  readonly masked: ReadonlyMap<string, Uint32Array>;
  readonly reveals: readonly Reveal[];
  readonly secrets: ReadonlyMap<string, SecAggSecrets>;
  readonly inboxes: ReadonlyMap<string, SealedShares[]>;
  readonly bytes: ReadonlyMap<string, SecAggBytes>;
  /** Milliseconds by `clock` each member spent computing its steps, and the server (sum and unmasking); zeros without a clock. */
  readonly ms: { readonly clients: ReadonlyMap<string, number>; readonly server: number };
}

/** 96 reproducible secret bytes for `member` from `seed`: for tests and simulations, never for a real node. */
export function derivedRandomness(seed: string, member: string): Uint8Array {
  const out = new Uint8Array(SECRET_RANDOM_BYTES);
  for (let i = 0; i < SECRET_RANDOM_BYTES / 32; i++) out.set(sha256(new TextEncoder().encode(`${seed}|${member}|${i}`)), i * 32);
  return out;
}

/**
 * Runs a round: every member of `inputs` advertises, shares, masks and reveals unless `drops`
 * says it stops before a step; `tamper` may rewrite a member's outgoing shares or reveals (a
 * hostile client). The sets U2, U3 are what a host would see.
 */
export async function runLocalRound(
  round: SecAggRound,
  inputs: ReadonlyMap<string, Uint32Array>,
  options: {
    randomness: (member: string) => Uint8Array;
    drops?: ReadonlyMap<string, DropPoint>;
    tamperShares?: (b: SealedShares) => SealedShares;
    tamperReveal?: (r: Reveal) => Reveal;
    /** Milliseconds from some origin (performance.now in a benchmark), to time each party's computation. */
    clock?: () => number;
  },
): Promise<LocalRoundResult> {
  const drops = options.drops ?? new Map<string, DropPoint>();
  const members = [...inputs.keys()].sort();
  const bytes = new Map(members.map((m) => [m, { sent: 0, received: 0 }]));
  const idBytes = (m: string): number => new TextEncoder().encode(m).length;
  const setBytes = Math.ceil(members.length / 8); // a member set as a bitmap over U1
  const clock = options.clock ?? (() => 0);
  const clientMs = new Map(members.map((m) => [m, 0]));
  const timed = async <T>(m: string, f: () => T | Promise<T>): Promise<T> => {
    const t0 = clock();
    const out = await f();
    clientMs.set(m, clientMs.get(m)! + clock() - t0);
    return out;
  };

  const secrets = new Map<string, SecAggSecrets>();
  const adverts: KeyAdvert[] = [];
  for (const m of members) {
    const randomness = options.randomness(m);
    const a = await timed(m, () => advertiseKeys(m, randomness));
    secrets.set(m, a.secrets);
    adverts.push(a.advert);
    bytes.get(m)!.sent += idBytes(m) + 96;
  }
  const advertOf = new Map(adverts.map((a) => [a.member, a]));

  // ShareKeys
  const inboxes = new Map<string, SealedShares[]>(members.map((m) => [m, []]));
  const u2: string[] = [];
  for (const m of members) {
    if (drops.get(m) === 'beforeShare') continue;
    const sealed = await timed(m, () => shareKeys(round, secrets.get(m)!, adverts));
    // a member learns its neighbours' adverts before it can share
    bytes.get(m)!.received += sealed.reduce((s, b) => s + idBytes(b.to) + 96, 0);
    for (const raw of sealed) {
      const b = options.tamperShares ? options.tamperShares(raw) : raw;
      bytes.get(m)!.sent += idBytes(b.to) + b.sealed.length;
      inboxes.get(b.to)?.push(b);
    }
    u2.push(m);
  }

  // MaskedInputCollection
  const masked = new Map<string, Uint32Array>();
  for (const m of u2) {
    bytes.get(m)!.received += setBytes + inboxes.get(m)!.reduce((s, b) => s + idBytes(b.from) + b.sealed.length, 0);
    if (drops.get(m) === 'beforeMask') continue;
    const y = await timed(m, () => maskInput(round, secrets.get(m)!, adverts, u2, inputs.get(m)!));
    masked.set(m, y);
    bytes.get(m)!.sent += y.byteLength;
  }
  const u3 = [...masked.keys()];

  // Unmasking
  const reveals: Reveal[] = [];
  for (const m of u3) {
    bytes.get(m)!.received += setBytes;
    if (drops.get(m) === 'beforeReveal') continue;
    const r = await timed(m, () => revealShares(round, secrets.get(m)!, adverts, u2, u3, inboxes.get(m)!));
    for (const raw of r.reveals) {
      const x = options.tamperReveal ? options.tamperReveal(raw) : raw;
      bytes.get(m)!.sent += idBytes(x.about) + 1 + x.share.length;
      reveals.push(x);
    }
  }
  let outcome: LocalRoundResult['outcome'];
  const s0 = clock();
  try {
    outcome = await unmaskSum(round, [...advertOf.values()], u2, u3, sumMasked(round, masked), reveals);
  } catch (e) {
    outcome = { error: e as Error };
  }
  const server = clock() - s0;
  return { outcome, adverts, u2, u3, masked, reveals, secrets, inboxes, bytes, ms: { clients: clientMs, server } };
}
