// The side panel of the selected twin: identity and health, properties and telemetry with units
// and freshness, components, live charts with a history range, relationships as links, and the
// model's commands (shown disabled until the actuation API exists).
import { getAll, getJson, type Relationship, type Twin } from './api';
import { TwinCharts, type ChartSpec, type RangeKind } from './charts';
import { genericHealth, robotHealth } from './health';
import { unitSymbol, type Content, type ModelInfo } from './models';
import type { PlantState, Update } from './state';

const F = 'dtmi:castor:factory:';

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

export function age(ms: number): string {
  const s = Math.max(0, (Date.now() - ms) / 1000);
  if (s < 1) return 'now';
  if (s < 60) return `${s.toFixed(0)} s ago`;
  if (s < 3600) return `${(s / 60).toFixed(0)} min ago`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h ago`;
  return `${(s / 86400).toFixed(1)} d ago`;
}

function show(v: unknown): string {
  if (v === undefined) return '—';
  if (typeof v === 'string' && v.startsWith('{')) {
    try {
      return show(JSON.parse(v)); // objects come from history as JSON text
    } catch {
      return v;
    }
  }
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) >= 100 ? 1 : 2);
  if (v && typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>).filter(([k]) => !k.startsWith('$')).map(([k, x]) => `${k} ${show(x)}`).join('  ');
  }
  return String(v);
}

interface Row { component?: string; content: Content; value: HTMLElement; fresh: HTMLElement }

export class TwinPanel {
  private rows: Row[] = [];
  private twin: string | null = null;
  private charts: TwinCharts;
  private healthEl: HTMLElement | null = null;
  private rendered: string | null = null; // the twin the rows and badge belong to

  constructor(private host: HTMLElement, private state: PlantState, private onSelect: (id: string) => void) {
    this.charts = new TwinCharts(el('div'), state);
    this.empty();
  }

  get selected(): string | null {
    return this.twin;
  }

  private empty(): void {
    this.host.replaceChildren(el('div', { class: 'panel-empty' }, el('h2', {}, 'No twin selected'), el('p', {}, 'Click a robot, conveyor, sensor or controller in the 3D view, or a twin in the explorer.')));
  }

  async open(id: string): Promise<void> {
    this.twin = id;
    let twin: Twin | undefined = this.state.twins.get(id);
    try {
      twin = await getJson<Twin>(`/digitaltwins/${encodeURIComponent(id)}`);
      this.state.twins.set(id, twin);
      this.state.setTwins([twin]);
    } catch (e) {
      if (!twin) {
        this.host.replaceChildren(el('div', { class: 'panel-empty' }, el('h2', {}, id), el('p', { class: 'error' }, String(e))));
        return;
      }
    }
    if (this.twin !== id) return;
    const model = this.state.models.get(twin.$metadata.$model);
    this.render(twin, model);
  }

  close(): void {
    this.twin = null;
    this.rendered = null;
    this.charts.clear();
    this.empty();
  }

  private render(twin: Twin, model: ModelInfo | undefined): void {
    const id = twin.$dtId;
    this.rows = [];
    this.rendered = id;
    this.healthEl = el('span', { class: 'badge' });
    const head = el('div', { class: 'panel-head' },
      el('div', {}, el('h2', { id: 'panel-title' }, id), el('div', { class: 'muted' }, model?.displayName ?? twin.$metadata.$model)),
      this.healthEl);
    const sections: HTMLElement[] = [head];
    if (model?.description) sections.push(el('p', { class: 'muted small' }, model.description));

    // Own properties and telemetry, then one block per component.
    const own = model?.contents.filter((c) => c.kind === 'Property' || c.kind === 'Telemetry') ?? [];
    sections.push(this.section('Properties and telemetry', this.table(own, undefined)));
    const comps = model?.contents.filter((c) => c.kind === 'Component') ?? [];
    if (comps.length) {
      const cm = this.state.models.componentModel(model!.id, comps[0].name);
      const cols = cm?.contents.filter((c) => c.kind === 'Property' || c.kind === 'Telemetry') ?? [];
      sections.push(this.section('Components', this.componentTable(comps.map((c) => c.name), cols)));
    }

    // Charts: numeric telemetry of the twin, then of its components (one chart per name).
    const specs: ChartSpec[] = [];
    const numeric = (c: Content) => c.kind === 'Telemetry' && ['double', 'float', 'integer', 'long', 'boolean'].includes(String(c.schema));
    for (const c of own.filter(numeric)) specs.push({ name: c.name, unit: c.unit, components: [undefined], stepped: c.schema === 'boolean' });
    if (comps.length) {
      const cm = this.state.models.componentModel(model!.id, comps[0].name);
      for (const c of (cm?.contents ?? []).filter(numeric)) specs.push({ name: c.name, unit: c.unit, components: comps.map((x) => x.name) });
    }
    if (specs.length) {
      const picker = this.rangePicker();
      const chartHost = el('div', { class: 'charts', id: 'charts' });
      sections.push(this.section('History', picker, chartHost));
      this.charts = new TwinCharts(chartHost, this.state);
    }

    const rels = el('div', { class: 'rels' });
    sections.push(this.section('Relationships', rels));
    void this.loadRelationships(id, rels);

    const commands = model?.contents.filter((c) => c.kind === 'Command') ?? [];
    if (commands.length) {
      sections.push(this.section('Commands',
        el('div', { class: 'commands' }, ...commands.map((c) => el('button', { disabled: '', title: c.description || c.name }, c.displayName))),
        el('p', { class: 'note' }, 'Sending commands needs the actuation API, which has not landed yet; these are the commands the model declares.')));
    }
    this.host.replaceChildren(...sections);
    this.host.scrollTop = 0;
    if (specs.length) this.charts.show(id, specs);
    this.refresh();
  }

  private section(title: string, ...body: HTMLElement[]): HTMLElement {
    return el('section', {}, el('h3', {}, title), ...body);
  }

  private table(contents: Content[], component: string | undefined): HTMLElement {
    const tbody = el('tbody');
    for (const c of contents) {
      const value = el('td', { class: 'val' });
      const fresh = el('td', { class: 'fresh' });
      const unit = unitSymbol(c.unit);
      tbody.append(el('tr', { 'data-name': c.name },
        el('td', { title: c.description }, c.displayName, c.kind === 'Telemetry' ? el('span', { class: 'tag' }, 'tel') : ''),
        value, el('td', { class: 'unit' }, unit), fresh));
      this.rows.push({ component, content: c, value, fresh });
    }
    return el('table', { class: 'props' }, el('thead', {}, el('tr', {}, el('th', {}, 'name'), el('th', {}, 'value'), el('th', {}, 'unit'), el('th', {}, 'updated'))), tbody);
  }

  private componentTable(names: string[], cols: Content[]): HTMLElement {
    const head = el('tr', {}, el('th', {}, ''), ...cols.map((c) => el('th', { title: c.description }, c.displayName.replace(/([a-z])([A-Z])/g, '$1 $2'), el('br'), el('span', { class: 'unit' }, c.unit ? unitSymbol(c.unit) : ''))));
    const tbody = el('tbody');
    for (const n of names) {
      const tr = el('tr', { 'data-component': n }, el('td', {}, n));
      for (const c of cols) {
        const value = el('td', { class: 'val' });
        tr.append(value);
        this.rows.push({ component: n, content: c, value, fresh: el('span') });
      }
      tbody.append(tr);
    }
    return el('div', { class: 'scroll-x' }, el('table', { class: 'props comps' }, el('thead', {}, head), tbody));
  }

  private rangePicker(): HTMLElement {
    const box = el('div', { class: 'range' });
    const custom = el('div', { class: 'custom hidden' });
    const from = el('input', { type: 'datetime-local', step: '1' });
    const to = el('input', { type: 'datetime-local', step: '1' });
    const apply = el('button', {}, 'Apply');
    custom.append(from, to, apply);
    const kinds: Array<[RangeKind, string]> = [['1m', 'Last minute'], ['1h', 'Hour'], ['1d', 'Day'], ['custom', 'Custom']];
    const buttons = kinds.map(([k, label]) => {
      const b = el('button', { 'data-range': k, class: k === '1m' ? 'on' : '' }, label);
      b.onclick = () => {
        buttons.forEach((x) => x.classList.toggle('on', x === b));
        custom.classList.toggle('hidden', k !== 'custom');
        if (k !== 'custom') this.charts.setRange(k);
        else {
          const now = new Date(Date.now() - new Date().getTimezoneOffset() * 60000);
          to.value = now.toISOString().slice(0, 19);
          from.value = new Date(now.getTime() - 3600_000).toISOString().slice(0, 19);
        }
      };
      return b;
    });
    apply.onclick = () => {
      const f = new Date(from.value).getTime(), t = new Date(to.value).getTime();
      if (Number.isNaN(f) || Number.isNaN(t) || f >= t) {
        apply.textContent = 'From must be before to';
        setTimeout(() => (apply.textContent = 'Apply'), 2000);
        return;
      }
      this.charts.setRange('custom', { from: f, to: t });
    };
    box.append(el('div', { class: 'seg' }, ...buttons), custom);
    return box;
  }

  private async loadRelationships(id: string, host: HTMLElement): Promise<void> {
    const link = (target: string, label: string) => {
      const a = el('a', { href: `#twin=${encodeURIComponent(target)}`, 'data-twin': target }, target);
      a.onclick = (ev) => {
        ev.preventDefault();
        this.onSelect(target);
      };
      return el('li', {}, el('span', { class: 'rel' }, label), a);
    };
    try {
      const [out, inc] = await Promise.all([
        getAllRel(`/digitaltwins/${encodeURIComponent(id)}/relationships`),
        getAllRel(`/digitaltwins/${encodeURIComponent(id)}/incomingrelationships`),
      ]);
      if (this.twin !== id) return;
      const ul = el('ul', { class: 'rel-list' });
      out.sort((a, b) => (a.$targetId ?? '').localeCompare(b.$targetId ?? '')).forEach((r) => ul.append(link(r.$targetId ?? '', `${r.$relationshipName} →`)));
      inc.sort((a, b) => a.$sourceId.localeCompare(b.$sourceId)).forEach((r) => ul.append(link(r.$sourceId, `← ${r.$relationshipName}`)));
      if (!out.length && !inc.length) ul.append(el('li', { class: 'muted' }, 'none'));
      host.replaceChildren(ul);
    } catch (e) {
      host.replaceChildren(el('p', { class: 'error' }, String(e)));
    }
  }

  // Live values for the panel: values, freshness and health. Cheap; called a few times a second.
  refresh(): void {
    if (!this.twin || this.rendered !== this.twin || !this.healthEl) return;
    const id = this.twin;
    for (const r of this.rows) {
      const l = this.state.get(id, r.component, r.content.name);
      const text = show(l?.value);
      if (r.value.textContent !== text) r.value.textContent = text;
      const f = l ? age(l.seen) : '';
      if (r.fresh.textContent !== f) r.fresh.textContent = f;
      if (r.content.name === 'temperature' && r.component) {
        const max = this.state.num(id, r.component, 'maxTemperature') ?? 90;
        const t = typeof l?.value === 'number' ? l.value : 0;
        r.value.classList.toggle('hot', t >= max - 10);
      }
    }
    const isRobot = this.state.models.isA(this.state.modelOf(id), F + 'Robot;1');
    const h = isRobot ? robotHealth(this.state, id) : genericHealth(this.state, id);
    this.healthEl.className = `badge h-${h.health}`;
    this.healthEl.textContent = h.health;
    this.healthEl.title = h.why;
  }

  onUpdates(updates: Update[]): void {
    this.charts.onUpdates(updates);
  }

  flushCharts(): void {
    this.charts.flush();
  }
}

function getAllRel(path: string): Promise<Relationship[]> {
  return getAll<Relationship>(path);
}
