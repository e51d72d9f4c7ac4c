// Text for the HTML report: escaping, and numbers the way a reader wants them (1.2 MB,
// 3.4 min, 97.1%), with axis ticks at round values.

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML and SVG element content and attribute values. */
export function escapeHtml(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** A count with thousands separators: 10,000. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A number with `digits` significant digits, without a trailing ".0". */
export function formatNumber(n: number, digits = 3): string {
  if (n === 0) return '0';
  if (Math.abs(n) >= 10 ** digits) return formatCount(n);
  return String(Number(n.toPrecision(digits)));
}

/** A fraction as a percentage: 0.9712 → "97.1%". */
export function formatPercent(x: number, decimals = 1): string {
  return `${(x * 100).toFixed(decimals)}%`;
}

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** Bytes in SI units: 1,234,567 → "1.23 MB". */
export function formatBytes(bytes: number): string {
  let i = 0;
  let v = bytes;
  while (Math.abs(v) >= 1000 && i < BYTE_UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${formatNumber(v)} ${BYTE_UNITS[i]}`;
}

/** A unit of time an axis or a label counts in. */
export interface TimeUnit {
  readonly name: string;
  readonly seconds: number;
}

/** The unit that keeps a span of `seconds` in readable numbers. */
export function timeUnitFor(seconds: number): TimeUnit {
  if (seconds >= 2 * 3600) return { name: 'h', seconds: 3600 };
  if (seconds >= 120) return { name: 'min', seconds: 60 };
  if (seconds >= 1 || seconds === 0) return { name: 's', seconds: 1 };
  return { name: 'ms', seconds: 0.001 };
}

/** A duration in its own best unit: 95 → "1.58 min". */
export function formatDuration(seconds: number): string {
  const unit = timeUnitFor(seconds);
  return `${formatNumber(seconds / unit.seconds)} ${unit.name}`;
}

/** The same number in an SI-scaled short form for axis ticks: 12000 → "12k". */
export function formatShort(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${formatNumber(n / 1e9)}G`;
  if (a >= 1e6) return `${formatNumber(n / 1e6)}M`;
  if (a >= 1e4) return `${formatNumber(n / 1e3)}k`;
  return formatNumber(n);
}

/**
 * About `count` evenly spaced values at round numbers (steps of 1, 2 or 5 × 10^k) spanning
 * [min, max], widened so both ends sit on a tick.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return niceTicks(min - pad, max + pad, count);
  }
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const start = Math.floor(min / step + 1e-9) * step;
  const end = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = start; v <= end + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}
