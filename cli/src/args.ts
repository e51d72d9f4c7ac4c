import { InvalidArgumentError } from 'commander';

// Flag parsers for commander. Each rejects bad input with a message that says what was
// expected, so `canopy` never starts work on a typo.

/** Parses a whole number within [min, max]. */
export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, found "${value}"`);
    }
    return n;
  };
}

/** Parses a number within (min, max] (or [min, max] when inclusive). */
export function numberArg(min: number, max: number, { inclusiveMin = false } = {}) {
  return (value: string): number => {
    const n = Number(value);
    const aboveMin = inclusiveMin ? n >= min : n > min;
    if (!Number.isFinite(n) || !aboveMin || n > max) {
      throw new InvalidArgumentError(`expected a number ${inclusiveMin ? '≥' : '>'} ${min} and ≤ ${max}, found "${value}"`);
    }
    return n;
  };
}
