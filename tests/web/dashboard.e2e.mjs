// Browser end-to-end test of the dashboard page, run by tests/e2e/dashboard_browser_test.cc against a real
// `sluice run` (the demo's warehouse, a bearer token set). Drives Debian's chromium with playwright-core and
// checks what a user would: the token prompt, the dashboard list, every chart drawn (canvas present) with
// exactly the points `sluice query` returns for the chart's SQL, a broken chart showing its error while the
// others draw, auto-refresh picking up newly ingested events, and no console errors.
//
// usage: node dashboard.e2e.mjs BASE_URL TOKEN SLUICE_BIN CONFIG SCREENSHOT_DIR
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const [baseUrl, token, sluiceBin, config, shots] = process.argv.slice(2);
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

// What `sluice query --format json` returns for `sql` (through the running process that holds the file).
function sluiceQuery(sql) {
  const out = execFileSync(sluiceBin, ['query', '-c', config, sql, '--format', 'json'],
                           { env: { ...process.env, SLUICE_E2E_DASHBOARD_TOKEN: token }, encoding: 'utf8' });
  return JSON.parse(out);
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
// show an error instead.
async function checkDashboard(page, name, broken = []) {
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
    const rows = sluiceQuery(chart.sql);
    if (chart.kind === 'number') {
      const shown = (await page.textContent(`${card} .number`)).replace(/,/g, '');
      const column = chart.y[0] || Object.keys(rows[0])[0];
      assert.equal(Number(shown), Number(rows[0][column]), `${name} chart ${chart.index} (${chart.title})`);
    } else if (chart.kind === 'table') {
      const cells = await page.$$eval(`${card} tbody tr`, (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
      assert.equal(cells.length, rows.length, `${name} chart ${chart.index}: table rows`);
      const first = Object.keys(rows[0])[0];
      assert.deepEqual(cells.map((c) => c[0]), rows.map((r) => String(r[first])), `${name} chart ${chart.index}: first column`);
    } else {
      assert.ok(await page.$(`${card} canvas`), `${name} chart ${chart.index}: no canvas`);
      const drawn = await drawnPoints(page, chart.index);
      const expected = expectedPoints(chart, rows);
      assert.ok(expected.length > 0, `${name} chart ${chart.index} (${chart.title}) has no data to compare`);
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
    assert.equal(def.charts.length, 8);
    await page.screenshot({ path: `${shots}/community.png`, fullPage: true });
  });

  await check('tracking: rollup and SQL charts are drawn with the points sluice query returns', async () => {
    await page.goto(baseUrl + '/dashboards/tracking');  // the token stays in this tab's session
    const def = await checkDashboard(page, 'tracking');
    assert.equal(def.charts.length, 7);
    assert.equal(await page.isVisible('#token-form'), false);
    await page.screenshot({ path: `${shots}/tracking.png`, fullPage: true });
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
