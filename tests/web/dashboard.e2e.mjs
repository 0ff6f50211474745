// Browser end-to-end test of the dashboard page, run by tests/e2e/dashboard_browser_test.cc against a real
// `sluice run` (the demo's warehouse, a bearer token set). Drives Debian's chromium with playwright-core and
// checks what a user would: the token prompt, the dashboard list, every chart drawn (canvas present) with
// exactly the points `sluice query` returns for the chart's SQL, the time range picker (custom and relative
// ranges, kept in the URL) changing every time-filtered chart to exactly what `sluice query` returns for that
// range, Download CSV giving the rows shown, a broken chart showing its error while the others draw,
// auto-refresh picking up newly ingested events, an edited dashboard file showing its new chart (and a broken
// edit its error in a banner, the last good version still drawn), and no console errors.
//
// The community dashboard's source-health charts are checked against a partial collector run the C++ test
// recorded before starting sluice run: the partial source is named, as partial, in the indicator.
//
// usage: node dashboard.e2e.mjs BASE_URL TOKEN SLUICE_BIN CONFIG SCREENSHOT_DIR PARTIAL_COLLECTOR
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [baseUrl, token, sluiceBin, config, shots, partialCollector] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let failures = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}\n     ${String(e.message || e).split('\n').join('\n     ')}`);
  }
}

async function api(path) {
  const res = await fetch(baseUrl + path, { headers: { Authorization: 'Bearer ' + token } });
  assert.equal(res.status, 200, `${path}: HTTP ${res.status}`);
  return res.json();
}

// What `sluice query --format json|csv` returns for `sql` (through the running process that holds the file).
function sluiceQuery(sql, format = 'json') {
  const out = execFileSync(sluiceBin, ['query', '-c', config, sql, '--format', format],
                           { env: { ...process.env, SLUICE_E2E_DASHBOARD_TOKEN: token }, encoding: 'utf8' });
  return format === 'json' ? JSON.parse(out) : out;
}

// A chart answer's SQL with its bound parameters written as literals, for `sluice query` (which binds none).
function literalSql(data) {
  return data.sql.replace(/\$(\d+)/g, (_, n) => {
    const iso = data.params[Number(n) - 1];
    assert.match(iso, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    return `TIMESTAMP '${iso.replace('T', ' ').replace('Z', '')}'`;
  });
}

// The (dataset, x, y) points a chart must show for `rows` (objects from sluice query): one dataset per y
// column, or per value of the series column.
function expectedPoints(chart, rows) {
  const points = [];
  for (const r of rows) {
    if (chart.series) {
      if (r[chart.y[0]] !== null) points.push([String(r[chart.series]), String(r[chart.x]), Number(r[chart.y[0]])]);
    } else {
      for (const y of chart.y) if (r[y] !== null) points.push([y, String(r[chart.x]), Number(r[y])]);
    }
  }
  return points.sort();
}

// The points Chart.js holds for the chart drawn in card `index`.
async function drawnPoints(page, index) {
  return page.evaluate((i) => {
    const canvas = document.querySelector(`.chart[data-index="${i}"] canvas`);
    const chart = canvas && window.Chart.getChart(canvas);
    if (!chart) return null;
    const points = [];
    for (const ds of chart.data.datasets)
      ds.data.forEach((v, k) => { if (v !== null) points.push([ds.label, chart.data.labels[k], v]); });
    return points.sort();
  }, index);
}

async function waitCharts(page) {
  await page.waitForSelector('.chart');
  await page.waitForFunction(() => [...document.querySelectorAll('.chart')].every((c) => c.dataset.state !== 'loading'));
}

// Checks every chart of dashboard `name` against `sluice query`; `broken` lists chart indexes that must
// show an error instead. With `ranged`, the page has a range chosen: each chart is checked against the SQL
// and parameters its answer says it ran (the page's window.sluiceCharts), with the parameters as literals.
async function checkDashboard(page, name, broken = [], ranged = false) {
  const def = await api('/api/dashboards/' + name);
  await waitCharts(page);
  assert.equal(await page.textContent('#title'), def.title);
  for (const chart of def.charts) {
    const card = `.chart[data-index="${chart.index}"]`;
    const state = await page.getAttribute(card, 'data-state');
    if (broken.includes(chart.index)) {
      assert.equal(state, 'error', `${name} chart ${chart.index} (${chart.title}) should show its error`);
      continue;
    }
    const error = await page.textContent(`${card} .error`);
    assert.equal(state, 'ok', `${name} chart ${chart.index} (${chart.title}): ${error}`);
    let sql = chart.sql;
    if (ranged) {
      const data = await page.evaluate((i) => window.sluiceCharts[i], chart.index);
      sql = literalSql(data);
      if (!chart.time) {
        assert.equal(await page.textContent(`${card} .range-note`), 'not filtered by time');
        assert.equal(data.sql, chart.sql, `${name} chart ${chart.index}: not filtered, so its default SQL`);
      } else {
        assert.ok(data.params.length > 0, `${name} chart ${chart.index} (${chart.title}) is not filtered`);
      }
    }
    const rows = sluiceQuery(sql);
    if (chart.kind === 'number') {
      const shown = (await page.textContent(`${card} .number`)).replace(/,/g, '');
      const column = chart.y[0] || Object.keys(rows[0])[0];
      assert.equal(Number(shown), Number(rows[0][column]), `${name} chart ${chart.index} (${chart.title})`);
    } else if (chart.kind === 'table') {
      const cells = await page.$$eval(`${card} tbody tr`, (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
      assert.equal(cells.length, rows.length, `${name} chart ${chart.index}: table rows`);
      const first = rows.length ? Object.keys(rows[0])[0] : null;
      assert.deepEqual(cells.map((c) => c[0]), rows.map((r) => String(r[first])), `${name} chart ${chart.index}: first column`);
    } else {
      assert.ok(await page.$(`${card} canvas`), `${name} chart ${chart.index}: no canvas`);
      const drawn = await drawnPoints(page, chart.index);
      const expected = expectedPoints(chart, rows);
      assert.ok(ranged || expected.length > 0, `${name} chart ${chart.index} (${chart.title}) has no data to compare`);
      assert.deepEqual(drawn, expected, `${name} chart ${chart.index} (${chart.title}): drawn points differ from sluice query`);
    }
  }
  return def;
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'en-US' });
const page = await context.newPage();
const consoleErrors = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`); });
page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: uncaught ${e.message}`));
page.setDefaultTimeout(15000);

try {
  await check('the page asks for the token, refuses a wrong one, and lists the dashboards with the right one', async () => {
    await page.goto(baseUrl + '/');
    await page.waitForSelector('#token-form:not([hidden])');
    await page.fill('#token-input', 'wrong-token');
    await page.click('#token-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#token-error').textContent.includes('not accepted'));
    assert.equal(await page.isVisible('#token-form'), true);
    // The one console error allowed: the browser's own log of the 401 that answered the wrong token.
    const unauthorized = consoleErrors.filter((e) => e.includes('401'));
    consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !e.includes('401')));
    assert.ok(unauthorized.length <= 1, unauthorized.join('\n'));
    await page.fill('#token-input', token);
    await page.click('#token-form button[type=submit]');
    await page.waitForSelector('#dashboard-list li');
    const names = await page.$$eval('#dashboard-list li', (lis) => lis.map((li) => li.dataset.name));
    assert.deepEqual(names, ['checks', 'community', 'tracking']);
    const titles = await page.$$eval('#dashboard-list li a', (as) => as.map((a) => a.textContent));
    assert.deepEqual(titles, ['Checks', 'Community', 'Tracking']);
    assert.equal(await page.isVisible('#token-form'), false);
    assert.ok(!page.url().includes(token), 'the token must not be in the URL');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('sluice.token')), token);
  });

  await check('community: every chart is drawn with the points sluice query returns', async () => {
    await page.click('#dashboard-list a[href="/dashboards/community"]');
    await page.waitForURL('**/dashboards/community');
    const def = await checkDashboard(page, 'community');
    assert.equal(def.charts.length, 16);
    await page.screenshot({ path: `${shots}/community.png`, fullPage: true });
  });

  await check('community: the partial run recorded shows its source as partial in the source-health indicator', async () => {
    const def = await api('/api/dashboards/community');
    const count = def.charts.find((c) => c.title === 'Sources failing or partial (latest run)');
    const latest = def.charts.find((c) => c.title === 'Sources, latest run of each (failing or partial first)');
    assert.ok(count && latest, 'the community dashboard has its source-health charts');
    // The demo's own collectors succeeded; the one run recorded as partial is the only unhealthy source.
    assert.equal(await page.textContent(`.chart[data-index="${count.index}"] .number`), '1');
    const rows = await page.$$eval(`.chart[data-index="${latest.index}"] tbody tr`,
                                   (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    const headers = await page.$$eval(`.chart[data-index="${latest.index}"] thead th`, (ths) => ths.map((th) => th.textContent));
    const col = (name) => headers.indexOf(name);
    assert.ok(col('collector') >= 0 && col('status') >= 0 && col('what_failed') >= 0, headers.join(','));
    assert.deepEqual(rows[0].slice(0, 2), [partialCollector, 'partial'], 'failing or partial sources come first');
    assert.match(rows[0][col('what_failed')], /acme\/gone/, 'the failed part is named');
    for (const r of rows.slice(1)) assert.equal(r[col('status')], 'succeeded', `${r[0]} is not partial`);
    await page.locator(`.chart[data-index="${latest.index}"]`).screenshot({ path: `${shots}/community-partial-source.png` });
  });

  await check('tracking: rollup and SQL charts are drawn with the points sluice query returns', async () => {
    await page.goto(baseUrl + '/dashboards/tracking');  // the token stays in this tab's session
    const def = await checkDashboard(page, 'tracking');
    assert.equal(def.charts.length, 7);
    assert.equal(await page.isVisible('#token-form'), false);
    await page.screenshot({ path: `${shots}/tracking.png`, fullPage: true });
  });

  await check('tracking: a custom range changes every time-filtered chart to what sluice query returns', async () => {
    // The middle third of the hours that hold data: some hours before and after it are left out.
    const hours = sluiceQuery('SELECT DISTINCT epoch(hour) AS h FROM tracking_hourly ORDER BY h').map((r) => r.h);
    assert.ok(hours.length >= 3, `${hours.length} hours of data`);
    const from = new Date(hours[Math.floor(hours.length / 3)] * 1000).toISOString();
    const to = new Date(hours[Math.floor((2 * hours.length) / 3)] * 1000).toISOString();
    const before = (await drawnPoints(page, 2)).length;
    await page.selectOption('#range', 'custom');
    await page.fill('#range-from', from.slice(0, 16));  // hours: the input drops zero seconds
    await page.fill('#range-to', to.slice(0, 16));
    await page.click('#range-apply');
    const iso = (t) => t.replace('.000Z', 'Z');
    await page.waitForFunction(([f, t]) => [...document.querySelectorAll('.chart[data-time]:not([data-time=""])')]
      .every((c) => c.dataset.state !== 'loading' && c.dataset.from === f && c.dataset.to === t), [iso(from), iso(to)]);
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('from'), from.slice(0, 16) + 'Z');
    assert.equal(url.searchParams.get('to'), to.slice(0, 16) + 'Z');
    await checkDashboard(page, 'tracking', [], true);
    // The hourly chart shows exactly the hours of [from, to), which an independent query counts.
    const [inRange] = sluiceQuery(`SELECT count(DISTINCT hour) AS n FROM tracking_hourly WHERE hour >= TIMESTAMP '${
      from.slice(0, 19).replace('T', ' ')}' AND hour < TIMESTAMP '${to.slice(0, 19).replace('T', ' ')}'`);
    const labels = await page.evaluate(() => window.Chart.getChart(document.querySelector('.chart[data-index="2"] canvas')).data.labels);
    assert.equal(labels.length, Number(inRange.n));
    assert.ok(labels.length > 0 && (await drawnPoints(page, 2)).length < before, 'the range must narrow the chart');
    assert.equal(await page.textContent('.chart[data-index="0"] .range-note'), 'not filtered by time');
    await page.screenshot({ path: `${shots}/tracking-custom-range.png`, fullPage: true });
    // A link shows the same view.
    await page.goto(page.url());
    await waitCharts(page);
    assert.equal(await page.inputValue('#range'), 'custom');
    assert.equal(await page.getAttribute('.chart[data-index="2"]', 'data-from'), iso(from));
    assert.deepEqual(await page.evaluate(() => window.Chart.getChart(document.querySelector('.chart[data-index="2"] canvas')).data.labels), labels);
  });

  await check('tracking: Download CSV gives the rows the chart shows, named after the chart and the range', async () => {
    const data = await page.evaluate(() => window.sluiceCharts[2]);
    const [download] = await Promise.all([page.waitForEvent('download'),
                                          page.click('.chart[data-index="2"] button.download')]);
    const compact = (t) => t.replace(/[-:]/g, '');
    assert.equal(download.suggestedFilename(),
                 `tracking-events-per-hour-by-type-${compact(data.from)}-${compact(data.to)}.csv`);
    const file = path.join(shots, download.suggestedFilename());
    await download.saveAs(file);
    const csv = fs.readFileSync(file, 'utf8');
    assert.equal(csv, sluiceQuery(literalSql(data), 'csv'));
    const lines = csv.trim().split(/\r?\n/);
    assert.equal(lines[0], data.result.columns.join(','));
    assert.deepEqual(lines.slice(1), data.result.rows.map((r) => r.join(',')));
    // The table view holds the same rows.
    await page.click('.chart[data-index="2"] button.table-toggle');
    const cells = await page.$$eval('.chart[data-index="2"] .data-table tbody tr', (trs) => trs.map((tr) => tr.cells[0].textContent));
    assert.deepEqual(cells, data.result.rows.map((r) => r[0]));
    await page.screenshot({ path: `${shots}/tracking-table-view.png`, fullPage: true });
  });

  await check('tracking: a relative range (last 7 days) filters from now, and the charts match sluice query', async () => {
    await page.selectOption('#range', '7d');
    await page.waitForURL((u) => u.pathname === '/dashboards/tracking' && u.search === '?range=7d');
    await page.waitForFunction(() => [...document.querySelectorAll('.chart[data-time]:not([data-time=""])')]
      .every((c) => c.dataset.state === 'ok' && Math.abs(Date.parse(c.dataset.from) - (Date.now() - 7 * 86400e3)) < 120e3));
    const from = Date.parse(await page.getAttribute('.chart[data-index="2"]', 'data-from'));
    assert.ok(Math.abs(from - (Date.now() - 7 * 86400e3)) < 120e3, `from ${new Date(from).toISOString()}`);
    await checkDashboard(page, 'tracking', [], true);
    // Back to the charts' own defaults.
    await page.selectOption('#range', '');
    await page.waitForURL((u) => u.pathname === '/dashboards/tracking' && u.search === '');
    await page.waitForFunction(() => [...document.querySelectorAll('.chart')].every((c) => c.dataset.state === 'ok' && !c.dataset.from));
    await checkDashboard(page, 'tracking');
  });

  await check('a broken chart shows its error; the others still draw; auto-refresh shows new events', async () => {
    await page.goto(baseUrl + '/dashboards/checks');
    await checkDashboard(page, 'checks', [0]);
    const error = await page.textContent('.chart[data-index="0"] .error');
    assert.match(error, /no_such_table does not exist/);
    assert.equal(await page.isVisible('.chart[data-index="0"] details'), true, 'the failing SQL is shown');
    const before = Number((await page.textContent('.chart[data-index="1"] .number')).replace(/,/g, ''));
    const body = ['start', 'complete', 'click'].map((event, i) => JSON.stringify(
        { ts: '2026-11-02T12:00:0' + i + 'Z', ad_id: 1, website_id: 1, event, session: 's', country: 'FR', ua: 'e2e' })).join('\n') + '\n';
    const res = await fetch(baseUrl + '/ingest/tracking', { method: 'POST', body, headers: { Authorization: 'Bearer ' + token } });
    assert.equal(res.status, 200, await res.text());
    // refresh: 1s in checks.yaml; no reload, no click.
    await page.waitForFunction((n) => Number(document.querySelector('.chart[data-index="1"] .number').textContent.replace(/,/g, '')) === n,
                               before + 3, { timeout: 10000 });
    await page.screenshot({ path: `${shots}/checks.png`, fullPage: true });
  });

  await check('an edited dashboard file shows its new chart; a broken edit shows its error and keeps the last good one', async () => {
    const file = path.join(path.dirname(config), 'dashboards', 'checks.yaml');
    const original = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, original + '  - { title: Added while open, kind: number, sql: "SELECT 7 AS seven" }\n');
    await page.click('#refresh-now');
    await page.waitForSelector('.chart[data-index="2"][data-state="ok"]');
    assert.equal(await page.textContent('.chart[data-index="2"] h2'), 'Added while open');
    assert.equal(await page.textContent('.chart[data-index="2"] .number'), '7');
    fs.writeFileSync(file, original + '  - { title: Bad, kind: line, sql: "SELECT 1 AS one" }\n');
    await page.waitForSelector('#reload-error:not([hidden])');
    assert.match(await page.textContent('#reload-error'), /checks\.yaml:6:5: charts\[2\]\.x: a line chart needs its x column/);
    assert.equal(await page.textContent('.chart[data-index="2"] h2'), 'Added while open', 'the last good version stays');
    await page.screenshot({ path: `${shots}/checks-reload-error.png`, fullPage: true });
    // A page loaded now shows the banner too; fixing the file removes it.
    await page.reload();
    await page.waitForSelector('#reload-error:not([hidden])');
    fs.writeFileSync(file, original);
    await page.click('#refresh-now');
    await page.waitForSelector('#reload-error', { state: 'hidden' });
    // The page draws the fixed file's two charts (the banner goes first, then the grid is drawn anew).
    await page.waitForFunction(() => document.querySelectorAll('.chart').length === 2);
    await waitCharts(page);
    assert.deepEqual(await page.$$eval('.chart h2', (hs) => hs.map((h) => h.textContent)),
                     ['Broken on purpose', 'Events loaded']);
  });

  await check('forgetting the token asks for it again', async () => {
    await page.click('#forget-token');
    await page.waitForSelector('#token-form:not([hidden])');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('sluice.token')), null);
  });

  await check('no console errors', async () => {
    assert.deepEqual(consoleErrors, []);
  });
} finally {
  await browser.close();
}
console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
