'use strict';
// Evaluates comparisons declared as data (benchmarks/comparisons.js) over a
// run's records, in one loop. Two kinds:
//
// Bars: {bar, from?, over, a, b, case, figures, limits?}
//   over     grid of query values ({dim: [values]}) or a list of queries
//   a, b     what else selects the two records compared (merged with the grid point)
//   case     label template, '{dim}' replaced from the grid point
//   figures  [{figure, unit, value | valueA + valueB, limit?, faster?, absolute?}]: value
//            is a key of the record's medians or a function of them; ratio = a / b
//            (faster: b / a) must be <= limit (faster: >= limit); `absolute: x`
//            instead limits a's value itself (<= x, in the figure's unit); a figure
//            without a limit is context (show: false keeps it out of the report's
//            table, in the JSON only). A bar holds when every limited figure does.
//            A bar without `b` has absolute figures only.
// Findings: {finding, from?, over, pick: {name: query} or a function of the grid point, optional?: [names], row(picks, g), title, columns}
//
// `from` names the list of records (default 'cases'); a record matches a query
// when every key is equal, `impl` defaulting to 'this' on both sides (--against twins).
const { ratio } = require('./stats');
const { FORMATS } = require('./format');

/** The grid points of `over`: a list as it is, or every combination of {dim: [values]}, first dim outermost. */
function points(over) {
  if (Array.isArray(over)) return over;
  let out = [{}];
  for (const [k, values] of Object.entries(over)) out = out.flatMap((g) => values.map((v) => ({ ...g, [k]: v })));
  return out;
}

function find(records, q) {
  return (
    records.find((c) => c.status === 'ok' && (c.impl ?? 'this') === (q.impl ?? 'this') && Object.entries(q).every(([k, v]) => k === 'impl' || c[k] === v)) ?? null
  );
}

const fill = (template, g) => template.replace(/\{(\w+)\}/g, (_, k) => g[k]);
const valueOf = (v, m) => (m === null ? null : typeof v === 'function' ? v(m) : (m[v] ?? null));

function figureOf(f, a, b) {
  const va = valueOf(f.valueA ?? f.value, a);
  const vb = valueOf(f.valueB ?? f.value, b);
  const r = f.faster ? ratio(vb, va) : ratio(va, vb);
  const out = { figure: f.figure, unit: f.unit, a: va, b: vb, ratio: r };
  if (f.show === false) out.show = false;
  if (f.absolute !== undefined) {
    Object.assign(out, { limit: f.absolute, absolute: true, pass: va !== null && va <= f.absolute });
  } else if (f.limit !== undefined) {
    out.limit = f.limit;
    out.pass = r !== null && (f.faster ? r >= f.limit : r <= f.limit);
  }
  return out;
}

function limitText(f) {
  if (f.absolute !== undefined) return `${f.limitName ?? f.figure} <= ${(FORMATS[f.unit] ?? FORMATS.text)(f.absolute)}`;
  return f.faster ? `>= ${f.limit}x faster` : `${f.limitName ?? f.figure} <= ${f.limit}x`;
}

function barOf(spec, g, a, b) {
  const figures = spec.figures.map((f) => figureOf(f, a.median, b ? b.median : null));
  const limited = figures.filter((f) => f.limit !== undefined);
  if (limited.some((f) => (f.absolute ? f.a === null : f.ratio === null))) return null; // cannot be judged from this run
  return {
    bar: spec.bar,
    case: fill(spec.case, g),
    a: a.id ?? a.loop,
    b: b ? (b.id ?? b.loop) : null,
    figures,
    pass: limited.every((f) => f.pass),
    limits: spec.limits ?? spec.figures.filter((f) => f.limit !== undefined || f.absolute !== undefined).map(limitText).join(', '),
  };
}

/** {bars, findings: {name: rows}} of `specs` over `sources` ({cases: [...], ...}). */
function evaluate(specs, sources) {
  const bars = [];
  const findings = {};
  for (const spec of specs) {
    const records = sources[spec.from ?? 'cases'] ?? [];
    const pick = spec.bar ? (spec.b ? { a: spec.a, b: spec.b } : { a: spec.a }) : spec.pick;
    if (spec.finding) findings[spec.finding] ??= [];
    for (const g of points(spec.over)) {
      const picked = {};
      for (const [name, q] of Object.entries(typeof pick === 'function' ? pick(g) : pick)) picked[name] = find(records, { ...g, ...q });
      if (Object.entries(picked).some(([name, c]) => !c && !(spec.optional ?? []).includes(name))) continue;
      if (spec.bar) {
        const bar = barOf(spec, g, picked.a, picked.b);
        if (bar) bars.push(bar);
      } else {
        const m = Object.fromEntries(Object.entries(picked).map(([k, c]) => [k, c ? c.median : null]));
        findings[spec.finding].push(spec.row(m, g));
      }
    }
  }
  return { bars, findings };
}

/** The "measured" cell of a bar: each figure's ratio and its two values. */
function measuredText(b) {
  const shown = b.figures.filter((f) => f.show !== false);
  const one = shown.length === 1;
  return shown
    .map((f) => {
      const fmt = FORMATS[f.unit] ?? FORMATS.text;
      const name = one ? '' : `${f.figure} `;
      if (f.absolute) return `${name}${fmt(f.a)}${f.ratio === null ? '' : ` (${FORMATS.ratio(f.ratio)} of ${fmt(f.b)})`}`;
      return `${name}${FORMATS.ratio(f.ratio)} (${fmt(f.a)} vs ${fmt(f.b)})`;
    })
    .join(', ');
}

module.exports = { evaluate, measuredText, points, find };
