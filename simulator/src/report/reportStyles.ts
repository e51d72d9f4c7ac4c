// The report's stylesheet, inlined so the file opens anywhere, offline, with nothing to fetch.
// System fonts only; colours match reportCharts' palette.

/** CSS of report.html. */
export const REPORT_CSS = `
:root {
  --ink: #0f172a; --ink-2: #334155; --muted: #64748b; --line: #e2e8f0; --bg: #f8fafc; --card: #ffffff;
  --accent: #0f766e; --accent-soft: #ccfbf1; --warn: #b45309; --bad: #b91c1c;
  font-family: ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--bg); font-size: 15px; line-height: 1.5;
}
* { box-sizing: border-box; }
body { margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 32px 28px 56px; }
header.top { border-bottom: 1px solid var(--line); padding-bottom: 22px; margin-bottom: 24px; }
.brand { display: flex; align-items: center; gap: 8px; color: var(--accent); font-weight: 600; font-size: 13px; letter-spacing: .08em; text-transform: uppercase; }
.brand .leaf { width: 14px; height: 14px; border-radius: 2px 10px; background: var(--accent); display: inline-block; }
h1 { font-size: 30px; line-height: 1.2; margin: 8px 0 4px; letter-spacing: -0.01em; }
.description { color: var(--ink-2); margin: 0 0 10px; font-size: 16px; }
.when { color: var(--muted); font-size: 13px; margin: 0; }
.status { display: inline-block; font-size: 12px; font-weight: 600; padding: 2px 8px; border-radius: 999px; margin-left: 8px; vertical-align: middle; background: var(--accent-soft); color: var(--accent); }
.status.warn { background: #fef3c7; color: var(--warn); }
dl.params { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 6px 28px; margin: 18px 0 0; }
dl.params div { display: grid; grid-template-columns: 110px 1fr; gap: 10px; font-size: 13.5px; border-top: 1px dashed var(--line); padding-top: 6px; }
dl.params dt { color: var(--muted); }
dl.params dd { margin: 0; color: var(--ink-2); }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; margin: 0 0 30px; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.kpi .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .06em; }
.kpi .value { font-size: 26px; font-weight: 650; margin-top: 2px; font-variant-numeric: tabular-nums; }
.kpi .note { color: var(--muted); font-size: 12.5px; font-variant-numeric: tabular-nums; }
section { margin-top: 34px; }
h2 { font-size: 19px; margin: 0 0 4px; }
section > p.lead { color: var(--muted); margin: 0 0 14px; font-size: 14px; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 16px; }
figure.card { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px 10px; }
figcaption h3 { margin: 0; font-size: 15px; }
figcaption .sub { margin: 0 0 6px; color: var(--muted); font-size: 12.5px; }
svg.chart { width: 100%; height: auto; display: block; font-size: 11px; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart .axis { stroke: #94a3b8; stroke-width: 1; }
svg.chart .tick-mark { stroke: #94a3b8; }
svg.chart .tick { fill: var(--muted); font-variant-numeric: tabular-nums; }
svg.chart .axis-label { fill: var(--ink-2); font-size: 12px; }
svg.chart .line { fill: none; stroke-linejoin: round; stroke-linecap: round; }
svg.chart .band { fill-opacity: .16; stroke: none; }
svg.chart .ref { stroke: #475569; stroke-dasharray: 4 4; stroke-width: 1; }
svg.chart .ref-label { fill: #475569; font-size: 11px; paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg.chart .dot { stroke: #fff; stroke-width: 1.2; }
svg.chart .bar:hover, svg.chart .dot:hover { opacity: .75; }
svg.chart .empty { fill: var(--muted); font-size: 14px; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 16px; padding: 0; margin: 6px 0 2px; font-size: 12.5px; color: var(--ink-2); }
.swatch { display: inline-block; width: 18px; height: 10px; margin-right: 6px; vertical-align: middle; }
.swatch.line { height: 3px; background: var(--c); border-radius: 2px; }
.swatch.dashed { height: 0; border-top: 2px dashed var(--c); }
.swatch.band { background: var(--c); opacity: .25; }
.swatch.box { width: 11px; height: 11px; background: var(--c); border-radius: 2px; }
table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; font-size: 13.5px; }
th, td { padding: 8px 12px; text-align: right; border-bottom: 1px solid var(--line); font-variant-numeric: tabular-nums; white-space: nowrap; }
th { background: #f1f5f9; color: var(--ink-2); font-weight: 600; font-size: 12.5px; white-space: normal; vertical-align: bottom; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
tr:last-child td { border-bottom: none; }
tfoot td { background: #f8fafc; font-weight: 600; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; background: #f1f5f9; color: var(--ink-2); }
.pill.good { background: var(--accent-soft); color: var(--accent); }
.pill.warn { background: #fef3c7; color: var(--warn); }
.pill.bad { background: #fee2e2; color: var(--bad); }
details { margin-top: 12px; background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 10px 16px; }
details summary { cursor: pointer; font-weight: 600; font-size: 14px; }
details ol { margin: 8px 0 0; padding-left: 20px; font-size: 13px; color: var(--ink-2); }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; border-top: 1px solid var(--line); padding-top: 14px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; background: #f1f5f9; padding: 1px 5px; border-radius: 4px; }
@media print { main { padding: 0; } .figures { grid-template-columns: 1fr 1fr; } figure.card { break-inside: avoid; } }
`;
