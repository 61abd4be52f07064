// The dashboard's composition: loads models, twins and relationships, builds the 3D plant, the
// explorer, the query box and the twin panel, and runs one animation loop that applies the live
// values received since the last frame, then draws. Exposes window.castorDashboard for tests.
import './style.css';
import { ApiError, queryAll, setToken, token, type Relationship, type Twin } from './api';
import { HEALTH_COLORS, type Health } from './health';
import { LiveFeed, type FeedMode, type PollSeries } from './live';
import { ModelRegistry } from './models';
import { SyntheticFeed, syntheticModels, syntheticPlant } from './synthetic';
import { Explorer } from './explorer';
import { el, TwinPanel } from './panel';
import { QueryBox } from './querybox';
import { PlantScene } from './scene';
import { PlantState } from './state';

const F = 'dtmi:castor:factory:';
// What the 3D view animates and colours; the selected twin gets everything on its own stream.
const PLANT_NAMES = ['angle', 'temperature', 'status', 'vibrationRms', 'speed', 'load', 'blocked'];

interface Probe {
  ready: boolean;
  error?: string;
  loadMs?: number; // navigation start -> first frame that draws the plant
  frames: number[]; // fps of each second since the plant was drawn
  renderScale: number; // 1 = full resolution; lower when frames are slow
  debug?: { scene: PlantScene }; // for diagnostics from the browser console
  robots: number;
  twins: number;
  messages: () => number;
  mode: () => FeedMode;
  select: (id: string) => void;
  selected: () => string | null;
  screenPosition: (id: string) => { x: number; y: number } | null;
  pixelStats?: () => { sampled: number; lit: number; colours: number };
  health?: (id: string) => Health; // as the 3D view coloured it last
}

declare global {
  interface Window {
    castorDashboard: Probe;
  }
}

const $ = (id: string) => document.getElementById(id)!;

function pollPlan(models: ModelRegistry): PollSeries[] {
  const plan: PollSeries[] = [];
  if (models.get(F + 'Robot;1')) {
    for (let j = 1; j <= 6; j++) {
      plan.push({ model: F + 'Robot;1', component: `joint${j}`, name: 'angle' }, { model: F + 'Robot;1', component: `joint${j}`, name: 'temperature' });
    }
    plan.push({ model: F + 'Robot;1', name: 'status' }, { model: F + 'Robot;1', name: 'vibrationRms' });
  }
  if (models.get(F + 'Conveyor;1')) plan.push({ model: F + 'Conveyor;1', name: 'speed' }, { model: F + 'Conveyor;1', name: 'load' }, { model: F + 'Conveyor;1', name: 'status' });
  if (models.get(F + 'PhotoEye;1')) plan.push({ model: F + 'PhotoEye;1', name: 'blocked' });
  if (models.get(F + 'Sensor;1')) plan.push({ model: F + 'Sensor;1', name: 'status' });
  if (models.get(F + 'LineController;1')) plan.push({ model: F + 'LineController;1', name: 'status' });
  return plan;
}

function setupTabs(): void {
  const buttons = [...document.querySelectorAll<HTMLButtonElement>('#tabs button')];
  for (const b of buttons) {
    b.onclick = () => {
      buttons.forEach((x) => x.classList.toggle('on', x === b));
      document.querySelectorAll('.tab').forEach((t) => t.classList.toggle('hidden', t.id !== `tab-${b.dataset.tab}`));
    };
  }
}

function legend(): void {
  const items: Array<[Health, string]> = [['ok', 'running'], ['warn', 'warning'], ['alarm', 'alarm / fault'], ['stopped', 'stopped'], ['maintenance', 'maintenance'], ['unknown', 'no data']];
  $('legend').replaceChildren(...items.map(([h, label]) => el('span', {}, el('i', { style: `background:#${HEALTH_COLORS[h].toString(16).padStart(6, '0')}` }), label)));
}

async function boot(): Promise<void> {
  const probe: Probe = {
    ready: false, frames: [], renderScale: 1, robots: 0, twins: 0, messages: () => 0, mode: () => 'connecting',
    select: () => {}, selected: () => null, screenPosition: () => null,
  };
  window.castorDashboard = probe;
  setupTabs();
  legend();
  // ?synthetic=N: a generated plant animated in the browser, for measuring the 3D view alone.
  const synthetic = Number(new URLSearchParams(location.search).get('synthetic') ?? 0);
  // The three loads run side by side: the first frame waits for the slowest only.
  const generated = synthetic > 0 ? syntheticPlant(synthetic) : null;
  const [models, twins, rels] = generated
    ? [syntheticModels(), generated.twins, generated.rels]
    : await Promise.all([
      ModelRegistry.load(),
      queryAll<Twin>('SELECT * FROM DIGITALTWINS'),
      queryAll<Relationship>('SELECT * FROM RELATIONSHIPS'),
    ]);
  const state = new PlantState(models);
  state.setTwins(twins);
  state.setRelationships(rels);

  const scene = new PlantScene($('viewport'), state);
  scene.build();
  const factory = twins.find((t) => models.isA(t.$metadata.$model, F + 'Factory;1'));
  if (factory) $('plant-name').textContent = `${String(factory.name ?? factory.$dtId)}${factory.location ? ` · ${String(factory.location)}` : ''}`;

  const onMode = (m: FeedMode) => {
    const pill = $('feed-mode');
    pill.className = `pill ${m}`;
    pill.textContent = m === 'stream' ? 'live · stream' : m === 'polling' ? 'live · polling' : m === 'synthetic' ? 'SYNTHETIC DATA' : m;
    pill.title = m === 'polling' ? 'This server has no /castor/v1/stream: polling /castor/v1/history/latest every second'
      : m === 'synthetic' ? 'A generated plant animated in the browser (?synthetic=N), not the server\'s twins' : 'Live values over /castor/v1/stream (WebSocket)';
  };
  const isRobot = (t: Twin) => models.isA(t.$metadata.$model, F + 'Robot;1');
  const feed = synthetic > 0
    ? new SyntheticFeed(twins.filter(isRobot).map((t) => t.$dtId), twins.filter((t) => models.isA(t.$metadata.$model, F + 'Conveyor;1')).map((t) => t.$dtId), onMode)
    : new LiveFeed(models, PLANT_NAMES, pollPlan(models), onMode);
  if (feed instanceof LiveFeed) feed.modelOf = (id) => state.modelOf(id);
  if (synthetic > 0) $('plant-name').textContent = `Synthetic plant · ${synthetic.toLocaleString('en')} robots · not live data`;

  let selected: string | null = null;
  const select = (id: string | null) => {
    if (id === selected) return;
    selected = id;
    scene.select(id);
    explorer.mark(id);
    feed.select(id);
    if (id) {
      void panel.open(id);
      history.replaceState(null, '', `#twin=${encodeURIComponent(id)}`);
    } else {
      panel.close();
      history.replaceState(null, '', location.pathname);
    }
  };
  const panel = new TwinPanel($('panel'), state, (id) => { select(id); scene.focus(id); });
  const explorer = new Explorer($('tab-explorer'), state, (id) => { select(id); scene.focus(id); });
  explorer.build();
  new QueryBox($('tab-query'), (id) => { select(id); scene.focus(id); });
  state.onUpdate((touched, updates) => {
    scene.onValues(touched);
    panel.onUpdates(updates);
  });

  // Click selects (a drag that orbits does not).
  const canvas = scene.renderer.domElement;
  let down: { x: number; y: number } | null = null;
  canvas.addEventListener('pointerdown', (e) => (down = { x: e.clientX, y: e.clientY }));
  canvas.addEventListener('pointerup', (e) => {
    if (!down || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 5) return;
    const id = scene.pick(e.clientX, e.clientY);
    if (id) select(id);
  });
  const tooltip = $('tooltip');
  let hoverAt = 0;
  canvas.addEventListener('pointermove', (e) => {
    if (e.buttons || performance.now() - hoverAt < 80) return;
    hoverAt = performance.now();
    const id = scene.pick(e.clientX, e.clientY);
    tooltip.classList.toggle('hidden', !id);
    canvas.style.cursor = id ? 'pointer' : '';
    if (!id) return;
    const rect = canvas.getBoundingClientRect();
    tooltip.textContent = `${id} · ${models.get(state.modelOf(id))?.displayName ?? ''}`;
    tooltip.style.left = `${e.clientX - rect.left + 14}px`;
    tooltip.style.top = `${e.clientY - rect.top + 14}px`;
  });

  const robots = twins.filter(isRobot).length;
  const stats = () => {
    const counts: Record<string, number> = { ok: 0, warn: 0, alarm: 0 };
    for (const r of scene.healthCounts()) counts[r] = (counts[r] ?? 0) + 1;
    const dot = (h: Health) => el('span', { class: 'dot', style: `background:#${HEALTH_COLORS[h].toString(16).padStart(6, '0')}` });
    $('stats').replaceChildren(
      el('span', {}, el('b', {}, twins.length.toLocaleString('en')), ' twins'),
      el('span', {}, el('b', {}, robots.toLocaleString('en')), ' robots'),
      el('span', {}, dot('ok'), el('b', {}, String(counts.ok)), ' ok'),
      el('span', {}, dot('warn'), el('b', {}, String(counts.warn)), ' warning'),
      el('span', {}, dot('alarm'), el('b', {}, String(counts.alarm)), ' alarm'),
    );
  };
  probe.robots = robots;
  probe.twins = twins.length;
  probe.messages = () => feed.messages;
  probe.mode = () => feed.mode;
  probe.select = (id) => { select(id); scene.focus(id); };
  probe.selected = () => selected;
  probe.screenPosition = (id) => scene.screenPosition(id);
  probe.debug = { scene };
  probe.pixelStats = () => scene.pixelStats();
  probe.health = (id) => scene.healthOf(id);

  // One loop: live values since the last frame, then a frame; the panel a few times a second.
  let last = performance.now();
  let second = last, framesThisSecond = 0, slowAt = 0;
  const loop = (now: number) => {
    const dt = Math.min(0.1, (now - last) / 1000);
    last = now;
    // Resolution changes clear the canvas, so they happen before a frame is drawn, never after.
    if (now - second >= 1000) {
      const fps = (framesThisSecond * 1000) / (now - second);
      probe.frames.push(Math.round(fps * 10) / 10);
      const scale = scene.adaptResolution(fps);
      $('fps').textContent = `${fps.toFixed(0)} fps${scale < 1 ? ` · ${Math.round(scale * 100)} %` : ''}`;
      $('fps').title = 'Frames per second; below 30 the 3D view renders at a lower resolution (shown in %)';
      probe.renderScale = scale;
      framesThisSecond = 0;
      second = now;
      stats();
    }
    state.apply(feed.drain());
    scene.frame(dt);
    framesThisSecond++;
    if (now - slowAt >= 250) {
      slowAt = now;
      panel.refresh();
      panel.flushCharts();
    }
    requestAnimationFrame(loop);
  };
  scene.frame(0);
  probe.loadMs = Math.round(performance.now());
  $('loading').classList.add('hidden');
  if (!twins.length) {
    $('viewport').append(el('div', { class: 'empty-plant' }, el('div', {}, 'This Castor has no twins yet. Load a plant (castor import, the ADT API) or try castor demo.')));
  }
  stats();
  probe.ready = true;
  requestAnimationFrame(loop);
  feed.start();
  const fromHash = /^#twin=(.+)$/.exec(location.hash);
  if (fromHash && state.twins.has(decodeURIComponent(fromHash[1]))) probe.select(decodeURIComponent(fromHash[1]));
}

// The server wants a token (it is not --insecure-local): ask for one, keep it for this tab.
function askForToken(rejected: boolean): void {
  const input = el('input', { type: 'password', id: 'token-input', placeholder: 'Castor token', autocomplete: 'off' });
  const go = el('button', { class: 'primary', id: 'token-submit' }, 'Open');
  const submit = () => {
    setToken(input.value.trim() || null);
    location.reload();
  };
  go.onclick = submit;
  input.onkeydown = (ev) => ev.key === 'Enter' && submit();
  $('loading').replaceChildren(el('div', { class: 'login' },
    el('h2', {}, 'This Castor server needs a token'),
    el('p', { class: 'muted' }, 'Paste a token with the viewer role or above (castor token create --data DATA --role viewer). It is kept for this browser tab only.'),
    rejected ? el('p', { class: 'error' }, 'The token was refused.') : '',
    el('div', { class: 'row' }, input, go)));
  input.focus();
}

boot().catch((e: unknown) => {
  if (e instanceof ApiError && e.status === 401) {
    const rejected = token() !== null;
    setToken(null);
    askForToken(rejected);
    if (window.castorDashboard) window.castorDashboard.error = 'Unauthorized';
    return;
  }
  const msg = e instanceof Error ? e.message : String(e);
  $('loading-text').textContent = `Cannot load the plant: ${msg}`;
  $('loading-text').classList.add('error');
  document.querySelector('.spinner')?.classList.add('hidden');
  if (window.castorDashboard) window.castorDashboard.error = msg;
});
