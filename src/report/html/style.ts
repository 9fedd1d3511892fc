/**
 * The report's stylesheet, inlined in the page (no external file). Plain CSS, readable on
 * screen and in print; colours carry no meaning alone (every badge also says its word).
 */
export const HTML_STYLE = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-alt: #f6f8fa;
  --good: #1a7f37; --good-bg: #dafbe1; --warn: #9a6700; --warn-bg: #fff8c5; --bad: #cf222e; --bad-bg: #ffebe9; --neutral: #59636e; --neutral-bg: #eff2f5; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 1.5rem; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .75rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
h4 { font-size: .95rem; margin: 1rem 0 .5rem; }
nav a { color: #0969da; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--bg-alt); padding: 0 .25em; border-radius: 4px; }
pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--bg-alt); padding: .5rem; overflow-x: auto; white-space: pre-wrap; }
.muted, .title { color: var(--muted); }
.title { font-size: 12px; }
.empty { color: var(--muted); font-style: italic; }
.hint { color: var(--muted); }
.bad-text { color: var(--bad); }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--bg-alt); font-weight: 600; }
table.numbers td:not(:first-child), td.num { font-variant-numeric: tabular-nums; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0 0 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
time { white-space: nowrap; }
table.items td:nth-child(2) { white-space: nowrap; }
ul.plain { list-style: none; margin: 0; padding: 0; }
.badge { display: inline-block; padding: 0 .5em; border-radius: 1em; font-size: 12px; font-weight: 600; white-space: nowrap; }
.badge.good { color: var(--good); background: var(--good-bg); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
.badge.bad { color: var(--bad); background: var(--bad-bg); }
.badge.neutral { color: var(--neutral); background: var(--neutral-bg); }
tr.item.failed td { background: var(--bad-bg); }
figure.chart { margin: .5rem 0; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12px; }
details summary { cursor: pointer; color: var(--muted); }
article.watch { border: 1px solid var(--line); border-radius: 6px; padding: 0 1rem .5rem; margin: .5rem 0 1rem; }
@media print { details { display: block; } nav { display: none; } }
`;
