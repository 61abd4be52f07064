// Live telemetry charts (uPlot) of the selected twin with a history range: the last minute (raw
// points, extended live), hour and day (step + avg), or a custom range. One chart per telemetry
// name; a name shared by components (joint1..6/temperature) is one chart with a line each.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { history } from './api';
import { unitSymbol } from './models';
import type { PlantState, Update } from './state';

export interface ChartSpec {
  name: string;
  unit: string;
  components: Array<string | undefined>; // undefined = the twin itself
  stepped?: boolean; // booleans and counters: hold each value until the next
}

export type RangeKind = '1m' | '1h' | '1d' | 'custom';

const PALETTE = ['#38bdf8', '#f59e0b', '#a78bfa', '#34d399', '#f472b6', '#facc15'];

// Bucket width for a span, so that a chart holds a few hundred points; raw below 10 minutes.
export function stepFor(spanMs: number): string | undefined {
  if (spanMs <= 10 * 60_000) return undefined;
  const ideal = spanMs / 300;
  const steps = [1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000];
  const s = steps.find((x) => x >= ideal) ?? steps[steps.length - 1];
  return `${s / 1000}s`;
}

interface Chart {
  spec: ChartSpec;
  plot: uPlot;
  data: number[][]; // [x (s), y per component]
  el: HTMLElement;
  dirty?: boolean;
}

export class TwinCharts {
  private charts: Chart[] = [];
  private twin = '';
  private range: RangeKind = '1m';
  private custom: { from: number; to: number } | null = null;
  private generation = 0;
  private refreshTimer: number | undefined;
  loadedPoints = 0; // non-null history values drawn by the last load (tests read it)

  constructor(private host: HTMLElement, private state: PlantState) {
    new ResizeObserver(() => this.resize()).observe(host);
  }

  show(twin: string, specs: ChartSpec[]): void {
    this.clear();
    this.twin = twin;
    for (const spec of specs) {
      const el = document.createElement('div');
      el.className = 'chart';
      el.dataset.name = spec.name;
      this.host.appendChild(el);
      const series: uPlot.Series[] = [{}];
      const stepped = spec.stepped ? uPlot.paths.stepped?.({ align: 1 }) : undefined;
      spec.components.forEach((c, i) => series.push({ label: c ?? spec.name, stroke: PALETTE[i % PALETTE.length], width: 1.5, points: { show: false }, ...(stepped ? { paths: stepped } : {}) }));
      const unit = unitSymbol(spec.unit);
      const opts: uPlot.Options = {
        title: `${spec.name}${unit ? ` (${unit})` : ''}`,
        width: this.width(),
        height: 150,
        series,
        legend: { show: spec.components.length > 1, live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [
          { stroke: '#8a96a3', grid: { stroke: '#1f2833', width: 1 }, ticks: { stroke: '#1f2833' }, font: '11px system-ui' },
          { stroke: '#8a96a3', grid: { stroke: '#1f2833', width: 1 }, ticks: { stroke: '#1f2833' }, font: '11px system-ui', size: 48 },
        ],
      };
      const data: number[][] = [[], ...spec.components.map(() => [])];
      const plot = new uPlot(opts, data as uPlot.AlignedData, el);
      this.charts.push({ spec, plot, data, el });
    }
    void this.load();
  }

  clear(): void {
    this.generation++;
    for (const c of this.charts) c.plot.destroy();
    this.charts = [];
    this.host.replaceChildren();
    if (this.refreshTimer !== undefined) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  setRange(kind: RangeKind, custom?: { from: number; to: number }): void {
    this.range = kind;
    this.custom = custom ?? null;
    void this.load();
  }

  // The newest source time known for the twin: with an accelerated simulator source times run
  // ahead of the wall clock, and "the last minute" means the twin's last minute.
  private anchor(): number {
    let newest = Date.now();
    for (const c of this.charts) {
      for (const comp of c.spec.components) {
        const l = this.state.get(this.twin, comp, c.spec.name);
        if (l && l.time > newest) newest = l.time;
      }
    }
    return newest;
  }

  private window(): { from: number; to: number } {
    if (this.range === 'custom' && this.custom) return this.custom;
    const span = this.range === '1m' ? 60_000 : this.range === '1h' ? 3_600_000 : 86_400_000;
    const to = this.anchor() + 1000;
    return { from: to - span, to };
  }

  private async load(): Promise<void> {
    const gen = ++this.generation;
    const { from, to } = this.window();
    const step = stepFor(to - from);
    let points = 0;
    await Promise.all(this.charts.map(async (c) => {
      const rows = await Promise.all(c.spec.components.map((comp) =>
        history({ twin: this.twin, component: comp, name: c.spec.name, from, to, step, agg: step ? 'avg' : undefined, limit: 20000 })
          .then((s) => s.points).catch(() => [] as Array<Array<number | string | boolean | null>>)));
      if (gen !== this.generation) return;
      // Align the series on the union of their timestamps (uPlot wants one x column).
      const xs = new Map<number, Array<number | null>>();
      rows.forEach((pts, k) => {
        for (const p of pts) {
          const x = Number(p[0]) / 1e9;
          const y = typeof p[1] === 'number' ? p[1] : typeof p[1] === 'boolean' ? Number(p[1]) : null;
          let row = xs.get(x);
          if (!row) xs.set(x, (row = rows.map(() => null)));
          row[k] = y;
          if (y !== null) points++; // empty buckets of a stepped read are not points
        }
      });
      const sorted = [...xs.keys()].sort((a, b) => a - b);
      c.data = [sorted, ...rows.map((_, k) => sorted.map((x) => xs.get(x)![k] as number))];
      c.plot.setData(c.data as uPlot.AlignedData);
      c.el.dataset.points = String(sorted.length);
    }));
    if (gen !== this.generation) return;
    this.loadedPoints = points;
    this.host.dataset.points = String(points);
    if (this.refreshTimer !== undefined) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    if (this.range === '1h' || this.range === '1d') this.refreshTimer = window.setInterval(() => void this.load(), 15_000);
  }

  // Live values of the shown twin extend "the last minute" charts.
  onUpdates(updates: Update[]): void {
    if (this.range !== '1m' || !this.charts.length) return;
    for (const u of updates) {
      if (u.twin !== this.twin || typeof u.value !== 'number') continue;
      const c = this.charts.find((x) => x.spec.name === u.name);
      if (!c) continue;
      const k = c.spec.components.indexOf(u.component);
      if (k < 0) continue;
      const x = (u.sourceTime ? Date.parse(u.sourceTime) : Date.now()) / 1000;
      const xsCol = c.data[0];
      const last = xsCol.length ? xsCol[xsCol.length - 1] : -Infinity;
      if (x > last) {
        xsCol.push(x);
        c.data.forEach((col, i) => i > 0 && col.push(null as unknown as number));
      } else if (x < last) continue;
      c.data[k + 1][xsCol.length - 1] = u.value;
      const cut = x - 60;
      let drop = 0;
      while (drop < xsCol.length && xsCol[drop] < cut) drop++;
      if (drop) c.data.forEach((col) => col.splice(0, drop));
      c.dirty = true;
    }
  }

  // Redraws charts that got live values; called a few times a second, not per message.
  flush(): void {
    for (const c of this.charts) {
      if (!c.dirty) continue;
      c.dirty = false;
      c.plot.setData(c.data as uPlot.AlignedData);
      c.el.dataset.points = String(c.data[0].length);
    }
  }

  private width(): number {
    return Math.max(200, this.host.clientWidth - 4);
  }

  private resize(): void {
    for (const c of this.charts) c.plot.setSize({ width: this.width(), height: 150 });
  }
}
