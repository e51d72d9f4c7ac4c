// Generates examples/artifacts/data/site-{1..5}.csv: a small synthetic patient table per
// site (age, sex, bmi, systolic blood pressure, outcome), of different sizes and slightly
// different populations. Seeded, so the committed files are what this script writes:
//   node examples/artifacts/generate-data.mjs
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// mulberry32: a tiny, well-known seeded generator.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function normal(u) {
  const a = 1 - u();
  return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
}

const sites = [
  { rows: 220, ageMean: 52, bmiShift: 0 },
  { rows: 340, ageMean: 47, bmiShift: 0.8 },
  { rows: 180, ageMean: 58, bmiShift: -0.5 },
  { rows: 410, ageMean: 44, bmiShift: 1.2 },
  { rows: 260, ageMean: 61, bmiShift: 0.3 },
];
const dir = join(dirname(fileURLToPath(import.meta.url)), 'data');
sites.forEach((site, i) => {
  const u = rng(1000 + i);
  const lines = ['age,sex,bmi,systolic_bp,outcome'];
  for (let r = 0; r < site.rows; r++) {
    const age = Math.round(Math.min(90, Math.max(18, site.ageMean + 15 * normal(u))));
    const sex = u() < 0.5 ? 'F' : 'M';
    const bmi = Math.round(Math.min(48, Math.max(16, 26 + site.bmiShift + 0.05 * (age - 50) + 4.5 * normal(u))) * 10) / 10;
    const bp = Math.round(Math.min(210, Math.max(85, 105 + 0.5 * age + 0.6 * (bmi - 26) + (sex === 'M' ? 4 : 0) + 12 * normal(u))));
    const risk = -7 + 0.06 * age + 0.08 * (bmi - 26) + 0.025 * (bp - 120);
    const outcome = u() < 1 / (1 + Math.exp(-risk)) ? 1 : 0;
    lines.push(`${age},${sex},${bmi},${bp},${outcome}`);
  }
  writeFileSync(join(dir, `site-${i + 1}.csv`), `${lines.join('\n')}\n`);
});
