// The dashboard in a real browser: starts `castor demo` (mosquitto, castor serve, the plant
// simulator) on a free port in its own temporary folder, opens the page in headless Chromium
// (Debian's, driven by playwright-core from web/node_modules) and checks what a user would see:
// the page loads, the 3D canvas is drawn, clicking a robot opens its panel, a live value changes,
// a chart shows history, the explorer lists the robots, a query answers; and the static-file
// route's headers and errors. Screenshots go to $CASTOR_ARTIFACTS (default build/test-artifacts/web).
// Run: CASTOR_BIN=build/bin/castor node tests/integration/web/dashboard_test.mjs
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const require = createRequire(path.join(root, 'web/package.json'));
const { chromium } = require('playwright-core');

const castor = process.env.CASTOR_BIN ?? path.join(root, 'build/bin/castor');
const browserPath = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => fs.existsSync(p));
const artifacts = process.env.CASTOR_ARTIFACTS ?? path.join(root, 'build/test-artifacts/web');
const ROBOTS = 100, LINES = 10;
let dataDir = '';

let failures = 0;
function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ` (${detail})` : ''}`);
  if (!ok) failures++;
  return ok;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Starts the demo and resolves with its URL once it prints "Castor demo ready: URL".
function startDemo(port, data) {
  const child = spawn(castor, ['demo', '--port', String(port), '--data', data, '--speed', '10', '--robots', String(ROBOTS), '--lines', String(LINES)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const ready = new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`castor demo not ready within 120 s:\n${err}`)), 120000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /Castor demo ready: (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`castor demo exited with ${code}:\n${err}`));
    });
  });
  return { child, ready, stderr: () => err };
}

async function stopByPid(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  const t = setTimeout(() => child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 30000);
  await done;
  clearTimeout(t);
}

async function staticRoute(base) {
  const index = await fetch(base);
  const html = await index.text();
  check(index.status === 200 && index.headers.get('content-type')?.startsWith('text/html'), 'GET / answers index.html', `${index.status} ${index.headers.get('content-type')}`);
  const etag = index.headers.get('etag');
  check(!!etag && index.headers.get('cache-control') === 'no-cache', 'index.html has an ETag and Cache-Control: no-cache');
  const again = await fetch(base, { headers: { 'If-None-Match': etag } });
  check(again.status === 304, 'If-None-Match with the ETag gives 304', String(again.status));
  const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  if (check(!!js, 'index.html references a hashed script')) {
    const r = await fetch(new URL(js, base));
    await r.arrayBuffer();
    check(r.status === 200 && r.headers.get('content-type') === 'text/javascript; charset=utf-8', 'the script is text/javascript', r.headers.get('content-type'));
    check(/immutable/.test(r.headers.get('cache-control') ?? ''), 'a hashed asset is cached as immutable', r.headers.get('cache-control'));
  }
  for (const bad of ['/assets/nope.js', '/assets/..%2F..%2F..%2Fetc%2Fpasswd', '/assets/..%2Findex.html', '/assets/.hidden']) {
    const r = await fetch(new URL(bad, base));
    const body = await r.json().catch(() => null);
    check(r.status === 404 && body?.error?.code === 'FileNotFound', `${bad} is 404 in the ADT error shape`, `${r.status} ${JSON.stringify(body)}`);
  }
  const api = await fetch(new URL('/digitaltwins/robot-01-01?api-version=2023-10-31', base));
  check(api.status === 200, 'the API is not shadowed by the dashboard', String(api.status));
  const doc = await (await fetch(new URL('/openapi.json', base))).json();
  check(!!doc.paths?.['/']?.get && !!doc.paths?.['/assets/{file}']?.get, 'the OpenAPI document lists GET / and GET /assets/{file}');
}

// Pixels of a frame drawn and read in one task by the page (the 3D view does not keep its drawing
// buffer, so an outside read could see a cleared one).
async function canvasStats(page) {
  return page.evaluate(() => window.castorDashboard.pixelStats());
}

async function browserChecks(base) {
  const browser = await chromium.launch({
    executablePath: browserPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(base);
    await page.waitForFunction(() => window.castorDashboard?.ready || window.castorDashboard?.error, null, { timeout: 30000 });
    const boot = await page.evaluate(() => ({ error: window.castorDashboard.error, robots: window.castorDashboard.robots, twins: window.castorDashboard.twins, loadMs: window.castorDashboard.loadMs }));
    check(!boot.error && boot.robots === ROBOTS, 'the page loads the plant', JSON.stringify(boot));
    await page.waitForTimeout(2500);
    const pixels = await canvasStats(page);
    check(pixels.lit > pixels.sampled * 0.05 && pixels.colours > 20, 'the 3D canvas has non-blank pixels', JSON.stringify(pixels));
    await page.screenshot({ path: path.join(artifacts, '1-plant.png') });

    // Click the robots nearest the camera (lowest on screen, well inside the canvas) until one opens.
    const canvasBox = await page.locator('#viewport canvas').boundingBox();
    const candidates = await page.evaluate(({ n, lines, w, h }) => {
      const out = [];
      for (let l = 1; l <= lines; l++) {
        for (let k = 1; k <= n / lines; k++) {
          const id = `robot-${String(l).padStart(2, '0')}-${String(k).padStart(2, '0')}`;
          const at = window.castorDashboard.screenPosition(id);
          if (at && at.x > 60 && at.x < w - 60 && at.y > 60 && at.y < h - 90) out.push({ id, ...at });
        }
      }
      return out.sort((a, b) => b.y - a.y).slice(0, 8);
    }, { n: ROBOTS, lines: LINES, w: canvasBox.width, h: canvasBox.height });
    let opened = null;
    for (const at of candidates) {
      if (opened) break;
      await page.mouse.click(canvasBox.x + at.x, canvasBox.y + at.y);
      try {
        await page.waitForFunction(() => /^robot-/.test(document.querySelector('#panel-title')?.textContent ?? ''), null, { timeout: 3000 });
        opened = await page.textContent('#panel-title');
      } catch {
        /* missed: try the next robot */
      }
    }
    check(!!opened, 'clicking a robot opens its panel', opened ?? 'no robot panel opened');
    if (opened) {
      const cells = () => page.$$eval('#panel table.comps td.val', (tds) => tds.map((t) => t.textContent).join('|'));
      await page.waitForFunction(() => [...document.querySelectorAll('#panel table.comps td.val')].some((t) => t.textContent !== '—'), null, { timeout: 10000 }).catch(() => {});
      const before = await cells();
      const t0 = Date.now();
      let changed = false;
      while (!changed && Date.now() - t0 < 5000) {
        await page.waitForTimeout(200);
        changed = (await cells()) !== before;
      }
      check(changed, 'a live value in the panel changes within 5 s', `${Date.now() - t0} ms, feed ${await page.evaluate(() => window.castorDashboard.mode())}`);
      const points = async () => Number(await page.getAttribute('#charts', 'data-points').catch(() => '0'));
      await page.waitForFunction(() => Number(document.querySelector('#charts')?.dataset.points ?? 0) > 0, null, { timeout: 15000 }).catch(() => {});
      check((await points()) > 0, 'a chart shows history (last minute, raw points)', String(await points()));
      await page.screenshot({ path: path.join(artifacts, '2-robot-panel.png') });
      await page.click('button[data-range="1h"]');
      await page.waitForTimeout(1500);
      check((await points()) > 0, 'the hour range loads aggregated history (step + avg)', String(await points()));
      const rels = await page.$$eval('#panel .rel-list a', (as) => as.map((a) => a.textContent));
      check(rels.some((r) => /^line-/.test(r)) && rels.some((r) => /^conveyor-/.test(r)), 'the panel links the robot to its line and conveyor', rels.join(','));
      const commands = await page.$$eval('#panel .commands button', (bs) => bs.map((b) => b.disabled));
      check(commands.length === 4 && commands.every(Boolean), 'the robot commands are listed, disabled', String(commands.length));

      // A collision (a fault the simulator injects on request) turns the robot red.
      const port = /listener (\d+)/.exec(fs.readFileSync(path.join(dataDir, 'mosquitto.conf'), 'utf8'))[1];
      const pub = spawnSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-q', '1', '-t', 'plant/sim/faults', '-m', JSON.stringify({ twin: opened, fault: 'collision' })]);
      check(pub.status === 0, 'a collision is injected through the simulator', String(pub.stderr));
      const t1 = Date.now();
      // The panel's badge is redrawn on the next panel refresh, after the 3D colour and the top bar.
      await page.waitForFunction((id) => window.castorDashboard.health(id) === 'alarm' && /1 alarm/.test(document.querySelector('#stats').textContent) && document.querySelector('#panel .badge')?.textContent === 'alarm', opened, { timeout: 20000 }).catch(() => {});
      const after = Date.now() - t1;
      const badge = await page.textContent('#panel .badge');
      const alarms = await page.textContent('#stats');
      check(badge === 'alarm' && (await page.evaluate((id) => window.castorDashboard.health(id), opened)) === 'alarm' && /1 alarm/.test(alarms),
        'the robot turns to alarm (panel badge, 3D colour, top bar count)', `${after} ms; ${badge}; ${alarms}`);
      await page.screenshot({ path: path.join(artifacts, '2b-robot-alarm.png') });
    }

    await page.fill('#twin-search', 'robot-');
    const count = await page.textContent('#search-count');
    const listed = await page.$$eval('#search-results a.twin', (as) => as.length);
    check(listed === ROBOTS && count === `${ROBOTS} matches`, 'the graph explorer lists 100 robots', `${listed}, "${count}"`);
    const tree = await page.$$eval('#twin-tree a.twin[data-twin^="robot-"]', (as) => as.length);
    check(tree === ROBOTS, 'the explorer tree holds every robot under its line', String(tree));
    await page.screenshot({ path: path.join(artifacts, '3-explorer-search.png') });

    await page.click('button[data-tab="query"]');
    await page.fill('#query-text', "SELECT T.$dtId, T.status FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:castor:factory:Conveyor;1')");
    await page.click('#query-run');
    await page.waitForFunction(() => /rows?/.test(document.querySelector('#query-status')?.textContent ?? '') || document.querySelector('#query-status')?.classList.contains('error'), null, { timeout: 10000 });
    const rows = await page.$$eval('#query-out tbody tr', (trs) => trs.length);
    check(rows === LINES, 'the query box shows the conveyors as a table', String(rows));
    await page.fill('#query-text', 'SELECT FROM');
    await page.click('#query-run');
    await page.waitForFunction(() => document.querySelector('#query-status')?.classList.contains('error'), null, { timeout: 10000 }).catch(() => {});
    check(/SqlQueryError|BadRequest/.test((await page.textContent('#query-status')) ?? ''), 'a bad query shows the error code');
    await page.screenshot({ path: path.join(artifacts, '4-query.png') });
    await page.click('button[data-tab="alarms"]');
    check(/not landed/.test(await page.textContent('#tab-alarms')), 'the alarms tab says analytics have not landed');
    const fps = await page.evaluate(() => window.castorDashboard.frames.slice(-3));
    console.log(`info: fps over the last seconds ${JSON.stringify(fps)}, first plant frame ${boot.loadMs} ms`);
    check(errors.length === 0, 'no page errors', errors.join('; '));
  } finally {
    await browser.close();
  }
}

// castor serve with TLS and tokens (no --insecure-local): the page asks for a token, refuses a
// wrong one, and with a viewer token loads the (empty) plant with live values streamed (the
// WebSocket carries the token as ?access_token=).
async function securedServer() {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'castor-web-tls-'));
  const made = spawnSync(castor, ['token', 'create', '--data', data, '--role', 'viewer', '--name', 'dashboard'], { encoding: 'utf8' });
  const viewer = made.stdout.trim();
  if (!check(made.status === 0 && viewer.length > 10, 'a viewer token is created', made.stderr)) return;
  const server = spawn(castor, ['serve', '--data', data, '--listen', '127.0.0.1:0', '--web-root', path.join(root, 'web/dist')], { stdio: ['ignore', 'pipe', 'ignore'] });
  const browser = await chromium.launch({ executablePath: browserPath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'] });
  try {
    const base = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('castor serve (TLS) not ready within 60 s')), 60000);
      server.stdout.on('data', (d) => {
        out += d;
        const m = /Castor listening on (\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(base);
    await page.waitForSelector('#token-input', { timeout: 20000 });
    check(true, 'a server that needs a token makes the page ask for one');
    await page.fill('#token-input', 'not-a-token');
    await page.click('#token-submit');
    await page.waitForSelector('#token-input', { timeout: 20000 });
    check(/refused/.test(await page.textContent('#loading')), 'a wrong token is refused with a message');
    await page.fill('#token-input', viewer);
    await page.click('#token-submit');
    await page.waitForFunction(() => window.castorDashboard?.ready || window.castorDashboard?.error, null, { timeout: 30000 });
    await page.waitForFunction(() => window.castorDashboard.mode() !== 'connecting', null, { timeout: 10000 }).catch(() => {});
    const state = await page.evaluate(() => ({ ready: window.castorDashboard.ready, error: window.castorDashboard.error, twins: window.castorDashboard.twins, mode: window.castorDashboard.mode() }));
    check(state.ready && !state.error && state.mode === 'stream', 'with a viewer token the plant loads and live values stream over an authenticated WebSocket', JSON.stringify(state));
    await page.screenshot({ path: path.join(artifacts, '5-token.png') });
  } finally {
    await browser.close();
    await stopByPid(server);
    fs.rmSync(data, { recursive: true, force: true });
  }
}

async function main() {
  check(fs.existsSync(path.join(root, 'web/dist/index.html')), 'web/dist is built (scripts/bootstrap.sh, or cd web && npm ci && npm run build)');
  if (!check(!!browserPath, 'chromium is installed (scripts/bootstrap.sh installs it)') || failures) process.exit(1);
  fs.mkdirSync(artifacts, { recursive: true });
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'castor-web-'));
  dataDir = data;
  const demo = startDemo(await freePort(), data);
  try {
    const base = await demo.ready;
    await staticRoute(base);
    await browserChecks(base);
    await securedServer();
  } catch (e) {
    check(false, 'the test ran to the end', String(e?.stack ?? e));
  } finally {
    await stopByPid(demo.child);
    fs.rmSync(data, { recursive: true, force: true });
  }
  console.log(failures ? `${failures} check(s) failed; screenshots in ${artifacts}` : `all checks passed; screenshots in ${artifacts}`);
  process.exit(failures ? 1 : 0);
}

await main();
