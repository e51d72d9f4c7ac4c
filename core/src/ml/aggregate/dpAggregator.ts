import { chacha20 } from '@noble/ciphers/chacha.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { BadInputError } from '../../util/errors.js';
import type { AggregationInput } from '../types.js';
import type { AggregatorSpec } from '../../spec/ml.js';
import type { Aggregator, AggregationResult, AggregatorContext, RejectedInput } from './aggregator.js';
import { InputOrder } from './inputOrder.js';
import { noInputs } from './noInputs.js';

/** The spec of client-level DP-FedAvg as a worker runs it (see AggregatorSpec). */
export type DpAggregatorSpec = Extract<AggregatorSpec, { kind: 'dp-fedavg' }>;

/**
 * Client-level DP-FedAvg (McMahan et al. 2018, Algorithm 1, with a fixed denominator: the
 * number of accepted inputs). Each input's update, its parameters minus the global ones, is
 * clipped to L2 norm `clip`, so one client moves the sum by at most `clip`; the sum gets
 * N(0, (σ·clip)²) per coordinate; the new global is the global plus sum / n. Weights are checked
 * but, as the mechanism requires, do not weight the average. Everything is binary64 in memberId
 * order and the noise is a pure function of `noiseSeed` (ChaCha20 keystream, Box–Muller), so
 * workers given the same inputs and seed produce the same bytes.
 */
export class DpAggregator implements Aggregator {
  readonly kind = 'dp-fedavg';
  readonly length: number;
  readonly backend = 'js';
  private readonly order: InputOrder;
  private readonly global: Float32Array;
  private readonly sum: Float64Array;
  private readonly delta: Float64Array;
  private accepted = 0;
  private weightSum = 0;
  private readonly rejected: RejectedInput[] = [];
  private finished = false;

  constructor(
    private readonly spec: DpAggregatorSpec,
    ctx: AggregatorContext,
  ) {
    this.length = ctx.global.length;
    this.global = ctx.global;
    this.order = new InputOrder(this.length);
    this.sum = new Float64Array(this.length);
    this.delta = new Float64Array(this.length);
  }

  allocate(): Float32Array {
    this.assertOpen();
    return new Float32Array(this.length);
  }

  add(input: AggregationInput): void {
    this.assertOpen();
    this.order.check(input);
    this.order.accept(input);
    const d = this.delta;
    let sq = 0;
    for (let i = 0; i < this.length; i++) {
      const x = input.params[i]! - this.global[i]!;
      d[i] = x;
      sq += x * x;
    }
    if (!Number.isFinite(sq)) {
      this.rejected.push({ memberId: input.memberId, reason: 'non-finite' });
      return;
    }
    const norm = Math.sqrt(sq);
    const scale = norm > this.spec.clip ? this.spec.clip / norm : 1;
    for (let i = 0; i < this.length; i++) this.sum[i]! += d[i]! * scale;
    this.accepted++;
    this.weightSum += Math.fround(input.weight);
  }

  finish(): AggregationResult {
    this.assertOpen();
    if (this.accepted === 0) throw noInputs('dp-fedavg', this.rejected);
    const std = this.spec.noiseMultiplier * this.spec.clip;
    const normal = gaussianStream(hexToBytes(this.spec.noiseSeed), this.length);
    const params = new Float32Array(this.length);
    for (let i = 0; i < this.length; i++) params[i] = this.global[i]! + (this.sum[i]! + std * normal[i]!) / this.accepted;
    this.finished = true;
    return { params, serverState: undefined, inputs: this.accepted, totalWeight: this.weightSum, rejected: this.rejected };
  }

  private assertOpen(): void {
    if (this.finished) throw new BadInputError('this aggregator has already finished');
  }
}

/**
 * `length` standard normal draws from the ChaCha20 keystream (RFC 8439, zero nonce) under a
 * 32-byte seed: Box–Muller on pairs of 32-bit words, u1 in (0, 1] so the log is finite.
 */
export function gaussianStream(seed: Uint8Array, length: number): Float64Array {
  if (seed.length !== 32) throw new BadInputError(`a noise seed is 32 bytes, got ${seed.length}`);
  const pairs = Math.ceil(length / 2);
  const words = new Uint32Array(chacha20(seed, new Uint8Array(12), new Uint8Array(pairs * 8)).buffer);
  const out = new Float64Array(length);
  for (let p = 0; p < pairs; p++) {
    const u1 = (words[2 * p]! + 1) / 4294967296;
    const u2 = words[2 * p + 1]! / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    out[2 * p] = r * Math.cos(2 * Math.PI * u2);
    if (2 * p + 1 < length) out[2 * p + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}
