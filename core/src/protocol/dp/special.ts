// The special functions the RDP accountant needs, to about 1e-14 relative: log|Γ(x)| (scipy's
// gammaln) and log(erfc(x)) without underflow for large x (dp-accounting's _log_erfc). Plain
// float64; no package in the registry we trust offers both.

// Lanczos approximation, g = 7, n = 9 (Numerical Recipes 3rd ed., §6.1; Godfrey's coefficients)
const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

/** log|Γ(x)|, as scipy.special.gammaln; Infinity at the poles 0, -1, -2, … */
export function logGamma(x: number): number {
  if (Number.isInteger(x) && x <= 0) return Infinity;
  if (x < 0.5) {
    // reflection: Γ(x) Γ(1 - x) = π / sin(πx)
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  }
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** log of the binomial coefficient C(n, k) in absolute value, for real n and k (dp-accounting's _log_comb). */
export function logComb(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** erf(x) by its Maclaurin series; accurate for |x| <= 2. */
function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  const x2 = x * x;
  for (let n = 1; n < 200; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** log(erfc(x) * exp(x²) * √π) for x > 2, by the continued fraction 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), modified Lentz. */
function logErfcScaledCf(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 5000; n++) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -Math.log(f);
}

/** log(erfc(x)) for any real x, without underflow in the far tail. */
export function logErfc(x: number): number {
  if (x === Infinity) return -Infinity;
  if (x === -Infinity) return Math.LN2;
  if (x > 2) return -x * x - 0.5 * Math.log(Math.PI) + logErfcScaledCf(x);
  if (x >= -2) return Math.log(1 - erfSeries(x));
  // erfc(x) = 2 - erfc(-x)
  return Math.log(2 - Math.exp(logErfc(-x)));
}
