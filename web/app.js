// The sluice dashboard page: `/` lists the dashboards, `/dashboards/<name>` draws one. Definitions and chart
// data come from the JSON API (/api/dashboards...); charts are drawn with Chart.js. When the server asks for a
// bearer token, the page asks the user for it and keeps it in sessionStorage (this tab only), never in the
// URL. Each chart loads and fails on its own: a failing query shows its error in that chart.
'use strict';

const TOKEN_KEY = 'sluice.token';
const PALETTE = ['#2f6fec', '#f79009', '#12b76a', '#d92d20', '#7a5af8', '#0ba5ec', '#ee46bc', '#667085',
                 '#875bf7', '#16b364'];
const MAX_TABLE_ROWS = 500;

const state = { token: sessionStorage.getItem(TOKEN_KEY) || '', timer: null };
const $ = (id) => document.getElementById(id);

class AuthError extends Error {}

// GET `path` as JSON with the token; throws AuthError on 401 and Error with the server's message otherwise.
async function api(path) {
  const headers = state.token ? { Authorization: 'Bearer ' + state.token } : {};
  const res = await fetch(path, { headers, cache: 'no-store' });
  if (res.status === 401) throw new AuthError('the token was not accepted');
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
  const { dashboards } = await api('/api/dashboards');
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

async function showDashboard(name) {
  const def = await api('/api/dashboards/' + encodeURIComponent(name));
  $('title').textContent = def.title;
  document.title = def.title + ' · sluice';
  $('description').textContent = def.description;
  const grid = el('div', { className: 'charts' });
  const cards = def.charts.map((chart) => {
    const card = el('section', { className: 'chart', dataset: { index: chart.index, kind: chart.kind, state: 'loading' } },
                    el('h2', { textContent: chart.title }),
                    el('p', { className: 'error', role: 'alert' }),
                    el('div', { className: 'plot' }),
                    el('footer'));
    grid.append(card);
    return { card, chart, drawn: null };
  });
  $('content').replaceChildren(grid);
  let busy = false;  // a refresh slower than the interval is not stacked on top of itself
  const refresh = async () => {
    if (busy) return;
    busy = true;
    try {
      await Promise.all(cards.map((c) => refreshChart(name, c)));
      $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    } finally {
      busy = false;
    }
  };
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

async function refreshChart(name, c) {
  const footer = c.card.querySelector('footer');
  try {
    const data = await api(`/api/dashboards/${encodeURIComponent(name)}/charts/${c.chart.index}`);
    if (data.error) throw Object.assign(new Error(data.error), { sql: data.sql });
    draw(c, data.result);
    c.card.querySelector('.error').textContent = '';
    c.card.dataset.state = 'ok';
    const n = data.result.rows.length;
    footer.textContent = `${n} ${n === 1 ? 'row' : 'rows'} · ${data.elapsed_ms} ms`;
  } catch (e) {
    if (e instanceof AuthError) return askToken('The token was not accepted; try again.');
    showChartError(c, e.message, e.sql);
  }
}

function showChartError(c, message, sql) {
  if (c.drawn && c.drawn.destroy) c.drawn.destroy();
  c.drawn = null;
  const plot = c.card.querySelector('.plot');
  plot.replaceChildren();
  if (sql) plot.append(el('details', {}, el('summary', { textContent: 'SQL' }), el('pre', { textContent: sql })));
  c.card.querySelector('.error').textContent = message;
  c.card.querySelector('footer').textContent = '';
  c.card.dataset.state = 'error';
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
  const cols = chart.y.length ? chart.y.map((y) => columnIndex(result, y)) : result.columns.map((_, i) => i);
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
