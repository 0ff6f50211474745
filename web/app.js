// The sluice dashboard page: `/` lists the dashboards, `/dashboards/<name>` draws one. Definitions and chart
// data come from the JSON API (/api/dashboards...); charts are drawn with Chart.js. When the server asks for a
// bearer token, the page asks the user for it and keeps it in sessionStorage (this tab only), never in the
// URL. Each chart loads and fails on its own: a failing query shows its error in that chart.
// The time range (the picker: chart defaults, last 24 h / 7 d / 30 d / 90 d, all, custom from/to in UTC) is
// kept in the URL's query string (?range=7d, ?from=..&to=..), so a link shows the same view; the server binds
// it to every chart that has a time column and answers the bounds it resolved, which the chart's "Download
// CSV" asks for again, so the file holds the rows shown. Each chart's last answer is kept in
// window.sluiceCharts[index] (and its bounds in the card's data-from / data-to). A refresh re-reads the
// dashboard's definition too: an edited YAML file shows without a reload, its errors in a banner.
'use strict';

const TOKEN_KEY = 'sluice.token';
const PALETTE = ['#2f6fec', '#f79009', '#12b76a', '#d92d20', '#7a5af8', '#0ba5ec', '#ee46bc', '#667085',
                 '#875bf7', '#16b364'];
const MAX_TABLE_ROWS = 500;

const state = { token: sessionStorage.getItem(TOKEN_KEY) || '', timer: null, range: readRange() };
window.sluiceCharts = {};
const $ = (id) => document.getElementById(id);

class AuthError extends Error {}

// The range the URL chooses: {range} or {from, to}; {} is "chart defaults".
function readRange() {
  const q = new URLSearchParams(location.search);
  const r = {};
  for (const k of ['range', 'from', 'to']) if (q.get(k)) r[k] = q.get(k);
  return r;
}

function rangeQuery(r) {
  const q = new URLSearchParams(r).toString();
  return q ? '?' + q : '';
}

// GET `path` with the token; throws AuthError on 401.
async function authFetch(path) {
  const headers = state.token ? { Authorization: 'Bearer ' + state.token } : {};
  const res = await fetch(path, { headers, cache: 'no-store' });
  if (res.status === 401) throw new AuthError('the token was not accepted');
  return res;
}

// GET `path` as JSON with the token; throws AuthError on 401 and Error with the server's message otherwise.
async function api(path) {
  const res = await authFetch(path);
  let body;
  try {
    body = await res.json();
  } catch (e) {
    throw new Error(`${path}: HTTP ${res.status}`);
  }
  if (!res.ok) throw new Error(body.error || `${path}: HTTP ${res.status}`);
  return body;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function askToken(message) {
  stopRefresh();
  $('content').replaceChildren();
  $('controls').hidden = true;
  $('range-form').hidden = true;
  $('token-form').hidden = false;
  $('token-error').textContent = message || '';
  $('token-input').value = '';
  $('token-input').focus();
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  state.token = $('token-input').value.trim();
  sessionStorage.setItem(TOKEN_KEY, state.token);
  $('token-form').hidden = true;
  render();
});

$('forget-token').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = '';
  askToken('');
});

function showPageError(message) {
  $('page-error').textContent = message;
  $('page-error').hidden = false;
}

// The dashboard files' errors (the server keeps serving their last good versions).
function showReloadError(message) {
  $('reload-error').textContent = message ? 'A dashboard file has errors; the last good version is shown.\n' + message : '';
  $('reload-error').hidden = !message;
}

window.addEventListener('popstate', () => {
  state.range = readRange();
  render();
});

async function render() {
  $('page-error').hidden = true;
  $('forget-token').hidden = !state.token;
  try {
    const m = location.pathname.match(/^\/dashboards\/([A-Za-z0-9_-]+)$/);
    if (m) await showDashboard(m[1]);
    else await showList();
  } catch (e) {
    if (e instanceof AuthError) askToken('The token was not accepted; try again.');
    else showPageError(e.message);
  }
}

async function showList() {
  const { dashboards, reload_error } = await api('/api/dashboards');
  showReloadError(reload_error);
  $('range-form').hidden = true;
  document.title = 'sluice dashboards';
  if (!dashboards.length) {
    $('content').replaceChildren(el('p', { className: 'empty', textContent:
        'No dashboards yet: set "dashboards: dashboards/" in the config and add a YAML file there ' +
        '(see examples/dashboards).' }));
    return;
  }
  const list = el('ul', { className: 'dashboard-list', id: 'dashboard-list' });
  for (const d of dashboards) {
    list.append(el('li', { dataset: { name: d.name } },
                   el('a', { href: '/dashboards/' + encodeURIComponent(d.name), textContent: d.title }),
                   el('p', { textContent: (d.description ? d.description + ' · ' : '') +
                                          d.charts + (d.charts === 1 ? ' chart' : ' charts') })));
  }
  $('content').replaceChildren(list);
}

// "2026-11-01T10:00:00Z" as a datetime-local input's value (UTC), "" when none.
function inputValue(iso) {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?))?/.exec(iso || '');
  return m ? `${m[1]}T${m[2] || '00:00'}` : '';
}

// Shows the URL's range in the picker; a change goes into the URL (a new history entry) and calls onChange.
function setupRangeForm(onChange) {
  const r = state.range;
  const select = $('range');
  const custom = Boolean(r.from || r.to);
  if (r.range && ![...select.options].some((o) => o.value === r.range)) {
    select.insertBefore(el('option', { value: r.range, textContent: 'last ' + r.range }), select.options[5]);
  }
  select.value = custom ? 'custom' : (r.range || '');
  $('custom-range').hidden = !custom;
  $('range-from').value = inputValue(r.from);
  $('range-to').value = inputValue(r.to);
  $('range-form').hidden = false;
  const apply = (next) => {
    state.range = next;
    history.pushState(null, '', location.pathname + rangeQuery(next));
    onChange();
  };
  select.onchange = () => {
    $('custom-range').hidden = select.value !== 'custom';
    if (select.value !== 'custom') apply(select.value ? { range: select.value } : {});
  };
  $('range-form').onsubmit = (event) => {
    event.preventDefault();
    const next = {};
    if ($('range-from').value) next.from = $('range-from').value + 'Z';
    if ($('range-to').value) next.to = $('range-to').value + 'Z';
    apply(next);
  };
}

async function showDashboard(name) {
  const def = await api('/api/dashboards/' + encodeURIComponent(name));
  showReloadError(def.reload_error);
  $('title').textContent = def.title;
  document.title = def.title + ' · sluice';
  $('description').textContent = def.description;
  const grid = el('div', { className: 'charts' });
  window.sluiceCharts = {};
  const cards = def.charts.map((chart) => {
    const c = { chart, drawn: null, data: null, showTable: false };
    const tools = el('div', { className: 'tools' });
    if (chart.kind !== 'table') {
      tools.append(el('button', { type: 'button', className: 'table-toggle', textContent: 'Table',
                                  onclick: () => { c.showTable = !c.showTable; showDataTable(c); } }));
    }
    tools.append(el('button', { type: 'button', className: 'download', textContent: 'Download CSV',
                                onclick: () => downloadCsv(name, c) }));
    c.card = el('section', { className: 'chart', dataset: { index: chart.index, kind: chart.kind, state: 'loading',
                                                             time: chart.time } },
                tools,
                el('h2', { textContent: chart.title }),
                el('p', { className: 'error', role: 'alert' }),
                el('div', { className: 'plot' }),
                el('div', { className: 'data-table', hidden: true }),
                el('footer', {}, el('span', { className: 'rows' }), el('span', { className: 'range-note' })));
    grid.append(c.card);
    return c;
  });
  $('content').replaceChildren(grid);
  // A refresh slower than the interval is not stacked on top of itself; one asked for meanwhile (a new range)
  // runs after it, so the last one drawn is the last one asked for.
  let busy = false;
  let again = false;
  let replaced = false;  // this dashboard was drawn anew: its old cards are gone
  let first = true;
  const refresh = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      // The definition may have changed on disk since (DashboardStore reloads it): draw it anew.
      if (!first) {
        const fresh = await api('/api/dashboards/' + encodeURIComponent(name));
        showReloadError(fresh.reload_error);
        if (JSON.stringify(fresh) !== JSON.stringify({ ...def, reload_error: fresh.reload_error })) {
          stopRefresh();
          replaced = true;
          return render();
        }
      }
      first = false;
      await Promise.all(cards.map((c) => refreshChart(name, c)));
      $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    } catch (e) {
      if (e instanceof AuthError) askToken('The token was not accepted; try again.');
      else showPageError(e.message);
    } finally {
      busy = false;
      if (again && !replaced) {
        again = false;
        refresh();
      }
    }
  };
  setupRangeForm(refresh);
  $('controls').hidden = false;
  $('refresh-now').onclick = refresh;
  $('refresh-every').textContent = def.refresh_seconds > 0 ? `every ${def.refresh_seconds}s` : '(off)';
  $('auto-refresh').disabled = !(def.refresh_seconds > 0);
  const schedule = () => {
    stopRefresh();
    if (def.refresh_seconds > 0 && $('auto-refresh').checked) {
      state.timer = setInterval(() => { if (!document.hidden) refresh(); }, def.refresh_seconds * 1000);
    }
  };
  $('auto-refresh').onchange = schedule;
  await refresh();
  schedule();
}

function stopRefresh() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

// What the footer says of a chart's range.
function rangeNote(chart, data) {
  if (!chart.time) return 'not filtered by time';
  if (data.from || data.to) return `${chart.time} from ${data.from || 'the start'} to ${data.to || 'the end'}`;
  if (chart.range && !(state.range.range || state.range.from || state.range.to)) {
    return `the newest ${chart.range} of ${chart.time} in the data`;
  }
  return `all of ${chart.time}`;
}

async function refreshChart(name, c) {
  const footer = c.card.querySelector('footer');
  try {
    const data = await api(`/api/dashboards/${encodeURIComponent(name)}/charts/${c.chart.index}` +
                           rangeQuery(state.range));
    if (data.error) throw Object.assign(new Error(data.error), { sql: data.sql });
    c.data = data;
    window.sluiceCharts[c.chart.index] = data;
    draw(c, data.result);
    showDataTable(c);
    c.card.querySelector('.error').textContent = '';
    c.card.dataset.from = data.from || '';
    c.card.dataset.to = data.to || '';
    c.card.dataset.state = 'ok';
    const n = data.result.rows.length;
    footer.querySelector('.rows').textContent = `${n} ${n === 1 ? 'row' : 'rows'} · ${data.elapsed_ms} ms · `;
    footer.querySelector('.range-note').textContent = rangeNote(c.chart, data);
  } catch (e) {
    if (e instanceof AuthError) return askToken('The token was not accepted; try again.');
    showChartError(c, e.message, e.sql);
  }
}

function showChartError(c, message, sql) {
  if (c.drawn && c.drawn.destroy) c.drawn.destroy();
  c.drawn = null;
  c.data = null;
  delete window.sluiceCharts[c.chart.index];
  const plot = c.card.querySelector('.plot');
  plot.replaceChildren();
  if (sql) plot.append(el('details', {}, el('summary', { textContent: 'SQL' }), el('pre', { textContent: sql })));
  c.card.querySelector('.error').textContent = message;
  for (const span of c.card.querySelectorAll('footer span')) span.textContent = '';
  showDataTable(c);
  c.card.dataset.state = 'error';
}

// The chart's rows as a table under it, while its Table button is on.
function showDataTable(c) {
  const box = c.card.querySelector('.data-table');
  box.hidden = !(c.showTable && c.data);
  const button = c.card.querySelector('.table-toggle');
  if (button) button.textContent = c.showTable ? 'Hide table' : 'Table';
  if (box.hidden) return box.replaceChildren();
  box.replaceChildren(table({ y: [] }, c.data.result));
}

// Downloads the rows the chart shows: the export asks for the bounds the chart's answer resolved (a relative
// range is not resolved again), through fetch so the token goes in a header, never in a URL.
async function downloadCsv(name, c) {
  const error = c.card.querySelector('.error');
  try {
    const q = new URLSearchParams({ dashboard: name, chart: c.chart.index });
    const d = c.data || {};
    if (d.from) q.set('from', d.from);
    if (d.to) q.set('to', d.to);
    if (!d.from && !d.to && (state.range.range || state.range.from || state.range.to)) q.set('range', 'all');
    const res = await authFetch('/api/export.csv?' + q);
    if (!res.ok) {
      let message = `HTTP ${res.status}`;
      try { message = (await res.json()).error || message; } catch (e) { /* not JSON */ }
      throw new Error('Download CSV: ' + message);
    }
    const m = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '');
    const url = URL.createObjectURL(await res.blob());
    const a = el('a', { href: url, download: m ? m[1] : 'chart.csv' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    if (e instanceof AuthError) return askToken('The token was not accepted; try again.');
    error.textContent = e.message;
  }
}

function columnIndex(result, column) {
  const i = result.columns.indexOf(column);
  if (i < 0) throw new Error(`column "${column}" is not in the result (columns: ${result.columns.join(', ')})`);
  return i;
}

function toNumber(v) {
  if (v === null || v === undefined) return null;
  return typeof v === 'number' ? v : Number(v);
}

// Chart.js data from the rows: the x values in order of appearance are the labels; one dataset per y
// column, or per value of the series column. A missing point is null.
function chartData(chart, result) {
  const xi = columnIndex(result, chart.x);
  const labels = [];
  const slot = new Map();
  for (const row of result.rows) {
    const x = String(row[xi]);
    if (!slot.has(x)) { slot.set(x, labels.length); labels.push(x); }
  }
  const datasets = [];
  const add = (label) => {
    const ds = { label, data: new Array(labels.length).fill(null) };
    datasets.push(ds);
    return ds;
  };
  if (chart.series) {
    const si = columnIndex(result, chart.series);
    const yi = columnIndex(result, chart.y[0]);
    const bySeries = new Map();
    for (const row of result.rows) {
      const s = String(row[si]);
      if (!bySeries.has(s)) bySeries.set(s, add(s));
      bySeries.get(s).data[slot.get(String(row[xi]))] = toNumber(row[yi]);
    }
  } else {
    for (const y of chart.y) {
      const yi = columnIndex(result, y);
      const ds = add(y);
      for (const row of result.rows) ds.data[slot.get(String(row[xi]))] = toNumber(row[yi]);
    }
  }
  const area = chart.kind === 'area' || chart.kind === 'stacked_area';
  datasets.forEach((ds, i) => {
    const color = PALETTE[i % PALETTE.length];
    Object.assign(ds, { borderColor: color, backgroundColor: area ? color + '55' : color, fill: area,
                        pointRadius: labels.length > 60 ? 0 : 2, borderWidth: 2, spanGaps: true });
  });
  return { labels, datasets };
}

// Tick text for an x label: timestamps shortened to what fits under a bar ("10-31 21:00"; a midnight is
// its date). The data keeps the full label, so tooltips and the page's data still show it whole.
function shortTick(label) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):\d{2}/.exec(label);
  if (!m) return label;
  return m[4] === '00' && m[5] === '00' ? `${m[1]}-${m[2]}-${m[3]}` : `${m[2]}-${m[3]} ${m[4]}:${m[5]}`;
}

function chartOptions(chart, datasets) {
  const stacked = chart.kind === 'stacked_bar' || chart.kind === 'stacked_area';
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'index', intersect: false },
    plugins: { legend: { display: datasets.length > 1, position: 'bottom' } },
    scales: {
      x: { stacked, ticks: { maxRotation: 0, autoSkip: true,
                             callback(value) { return shortTick(String(this.getLabelForValue(value))); } } },
      y: { stacked, beginAtZero: true },
    },
  };
}

function draw(c, result) {
  const chart = c.chart;
  const plot = c.card.querySelector('.plot');
  if (chart.kind === 'table' || chart.kind === 'number') {
    if (c.drawn && c.drawn.destroy) c.drawn.destroy();
    c.drawn = null;
    plot.replaceChildren(chart.kind === 'table' ? table(chart, result) : number(chart, result));
    return;
  }
  const data = chartData(chart, result);
  const type = chart.kind.endsWith('bar') ? 'bar' : 'line';
  if (c.drawn && c.drawn.config.type === type) {
    c.drawn.data = data;
    c.drawn.update('none');
    return;
  }
  if (c.drawn && c.drawn.destroy) c.drawn.destroy();
  const canvas = el('canvas', { role: 'img', 'aria-label': chart.title });
  plot.replaceChildren(canvas);
  c.drawn = new Chart(canvas, { type, data, options: chartOptions(chart, data.datasets) });
}

function isNumeric(type) {
  return /^(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|DOUBLE|FLOAT|DECIMAL)$/.test(type);
}

function formatCell(v, type) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' && isNumeric(type)) return v.toLocaleString();
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function table(chart, result) {
  // A table naming its columns shows x (what the rows are, e.g. a rollup's dimension) first, then y.
  const named = chart.y.length ? [chart.x, ...chart.y].filter((c) => c) : [];
  const cols = named.length ? named.map((c) => columnIndex(result, c)) : result.columns.map((_, i) => i);
  const head = el('tr', {}, ...cols.map((i) => el('th', { textContent: result.columns[i] })));
  const body = result.rows.slice(0, MAX_TABLE_ROWS).map((row) =>
      el('tr', {}, ...cols.map((i) => el('td', { className: isNumeric(result.types[i]) ? 'num' : '',
                                                 textContent: formatCell(row[i], result.types[i]) }))));
  const t = el('table', {}, el('thead', {}, head), el('tbody', {}, ...body));
  if (result.rows.length <= MAX_TABLE_ROWS) return t;
  return el('div', {}, t, el('p', { className: 'empty', textContent: `first ${MAX_TABLE_ROWS} of ${result.rows.length} rows` }));
}

function number(chart, result) {
  const i = chart.y.length ? columnIndex(result, chart.y[0]) : 0;
  const v = result.rows.length ? result.rows[0][i] : null;
  return el('div', { className: 'number', textContent: v === null ? '–' : formatCell(v, result.types[i]) });
}

async function main() {
  try {
    const auth = await (await fetch('/api/auth', { cache: 'no-store' })).json();
    if (auth.token_required && !state.token) return askToken('');
  } catch (e) {
    return showPageError('sluice does not answer: ' + e.message);
  }
  render();
}

main();
