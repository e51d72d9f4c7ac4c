// What a shell lends a machine for one step: the clock and a random source. Nothing else
// in the protocol may read time or draw random numbers, so a run is a pure function of
// its inputs, its seed and its clock (virtual in the simulator, real in the runtime).

/** The random draws the protocol needs; `Rng` from util/rng satisfies it. */
export interface RngLike {
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform in [0, 1). */
  float(): number;
}

/** The context of one step. */
export interface Ctx {
  /** Current time in milliseconds (wall clock in the runtime, virtual time in the simulator). */
  readonly now: number;
  readonly rng: RngLike;
  /**
   * `n` bytes for keys and secrets: from a cryptographic source in the runtime (never the
   * seeded `rng`, whose seed an observer could search), from a seeded source where a run must
   * be reproducible (the simulator, the in-memory driver, tests).
   */
  readonly secretBytes: (n: number) => Uint8Array;
}

/** `secretBytes` drawn from a seeded `rng`: for shells whose runs must be reproducible, never for a real node. */
export function seededSecretBytes(rng: RngLike): (n: number) => Uint8Array {
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = rng.int(256);
    return out;
  };
}
