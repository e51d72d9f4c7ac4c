// Whether a finished job reached one of its stop conditions (PROTOCOL.md, "Failure reasons"):
// the root host's stopReason starts with the condition that held (`rounds: …`,
// `targetAccuracy: …`, `targetLoss: …`, or `privacy budget: …` when the next round would pass
// the manifest's ε budget, PROTOCOL.md §6.14); anything else (`failed: …`, a parent's failure, a
// refusal) means the job ended without reaching it, and the CLI exits non-zero.

/** True when `stopReason` says a stop condition of the manifest held. */
export function reachedStopCondition(stopReason: string | null | undefined): boolean {
  return stopReason !== null && stopReason !== undefined && /^(rounds|targetAccuracy|targetLoss|privacy budget): /.test(stopReason);
}
