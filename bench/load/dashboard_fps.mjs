// Dashboard frame rate and first meaningful paint with 1,000 animated robots, in headless
// Chromium (SwiftShader: software WebGL on the CPU). Two plants, each in its own run:
//  - live (default): `castor demo --robots 1000 --lines 10` on a free port in a temporary folder;
//    the plant simulator, mosquitto and castor serve share the machine with the browser;
//  - --synthetic: `castor serve --web-root web/dist` only, and the page's /?synthetic=1000 mode
//    (a generated plant animated in the browser, labelled SYNTHETIC), to measure the 3D view alone.
// Prints per page load the first plant frame (navigation start -> first frame that draws the
// plant), first contentful paint and the median of per-second fps, then the medians over loads.
// No peer: this is the dashboard's own figure.
// Usage: node bench/load/dashboard_fps.mjs [--synthetic] [--robots 1000] [--lines 10] [--seconds 20]
//        [--loads 3] [--width 1280 --height 720] [--speed 1]   (CASTOR_BIN=build/bin/castor)
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { chromium } = createRequire(path.join(root, 'web/package.json'))('playwright-core');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const synthetic = process.argv.includes('--synthetic');
const robots = arg('robots', 1000), lines = arg('lines', 10), seconds = arg('seconds', 20), loads = arg('loads', 3);
const width = arg('width', 1280), height = arg('height', 720), speed = arg('speed', 1);
const castor = process.env.CASTOR_BIN ?? path.join(root, 'build/bin/castor');
const browserPath = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => fs.existsSync(p));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'castor-dashboard-bench-'));
const argv = synthetic
  ? ['serve', '--insecure-local', '--listen', `127.0.0.1:${port}`, '--data', data, '--web-root', path.join(root, 'web/dist'), '--access-log=false']
  : ['demo', '--port', String(port), '--data', data, '--robots', String(robots), '--lines', String(lines), '--speed', String(speed)];
const server = spawn(castor, argv, { stdio: ['ignore', 'pipe', 'ignore'] });
const stop = async () => {
  if (server.exitCode === null && server.signalCode === null) {
    const done = new Promise((r) => server.once('exit', r));
    process.kill(server.pid, 'SIGTERM');
    await done;
  }
  fs.rmSync(data, { recursive: true, force: true });
};
try {
  const base = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = /(?:Castor demo ready|Castor listening on):? (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    server.once('exit', (c) => reject(new Error(`castor ${argv[0]} exited with ${c}`)));
  });
  const url = synthetic ? `${base}?synthetic=${robots}` : base;
  if (!synthetic) await new Promise((r) => setTimeout(r, 5000)); // the simulator's first reports
  const browser = await chromium.launch({
    executablePath: browserPath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  const paints = [], fpsAll = [], fcps = [];
  let info = {};
  for (let i = 0; i < loads; i++) {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.goto(url);
    await page.waitForFunction(() => window.castorDashboard?.ready || window.castorDashboard?.error, null, { timeout: 60000 });
    const boot = await page.evaluate(() => ({
      error: window.castorDashboard.error, loadMs: window.castorDashboard.loadMs, robots: window.castorDashboard.robots,
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
    }));
    if (boot.error) throw new Error(boot.error);
    paints.push(boot.loadMs);
    if (boot.fcp !== undefined) fcps.push(boot.fcp);
    await page.waitForTimeout(3000); // warm-up, and the resolution settles
    const from = await page.evaluate(() => window.castorDashboard.frames.length);
    const m0 = await page.evaluate(() => window.castorDashboard.messages());
    await page.waitForTimeout(seconds * 1000);
    const frames = await page.evaluate((n) => window.castorDashboard.frames.slice(n), from);
    const m1 = await page.evaluate(() => window.castorDashboard.messages());
    fpsAll.push(median(frames));
    info = {
      robots: boot.robots, mode: await page.evaluate(() => window.castorDashboard.mode()), valuesPerSecond: Math.round((m1 - m0) / seconds),
      renderScale: await page.evaluate(() => window.castorDashboard.renderScale),
    };
    console.log(`load ${i + 1}: first plant frame ${boot.loadMs} ms, first contentful paint ${Math.round(boot.fcp ?? NaN)} ms, median fps ${median(frames)} over ${frames.length} s at render scale ${info.renderScale} (${JSON.stringify(frames)})`);
    await page.close();
  }
  await browser.close();
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`dashboard_fps plant=${synthetic ? 'synthetic' : 'live'} robots=${info.robots} viewport=${width}x${height} feed=${info.mode} live_values_per_s=${info.valuesPerSecond} loads=${loads} loadavg=${load}`);
  console.log(`median_fps=${median(fpsAll)} median_first_meaningful_paint_ms=${median(paints)} median_first_contentful_paint_ms=${Math.round(median(fcps))}`);
} finally {
  await stop();
}
