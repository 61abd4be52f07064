// The twin graph explorer: a tree by relationships (factory → lines → conveyors, robots, sensors,
// controller), each twin under the first twin that reaches it, grouped by relationship name;
// and a search by id that lists every match. Clicking a twin selects it.
import { el } from './panel';
import type { PlantState } from './state';

export class Explorer {
  private tree: HTMLElement;
  private results: HTMLElement;
  private count: HTMLElement;
  private selected: string | null = null;

  constructor(private host: HTMLElement, private state: PlantState, private onSelect: (id: string) => void) {
    const search = el('input', { type: 'search', placeholder: 'Search twins by id…', id: 'twin-search', spellcheck: 'false' });
    this.count = el('span', { class: 'muted small', id: 'search-count' });
    this.tree = el('div', { class: 'tree', id: 'twin-tree' });
    this.results = el('ul', { class: 'results hidden', id: 'search-results' });
    search.oninput = () => this.search(search.value.trim());
    host.replaceChildren(el('div', { class: 'search' }, search, this.count), this.tree, this.results);
  }

  build(): void {
    const s = this.state;
    const hasParent = new Set<string>();
    for (const rels of s.outgoing.values()) for (const r of rels) if (r.$targetId) hasParent.add(r.$targetId);
    const roots = [...s.twins.keys()].filter((id) => !hasParent.has(id)).sort();
    // Breadth first, so a twin hangs under its nearest ancestor (a conveyor under its line, not
    // under the robot that feeds it).
    const children = new Map<string, Map<string, string[]>>();
    const seen = new Set(roots);
    let frontier = roots;
    while (frontier.length) {
      const next: string[] = [];
      for (const id of frontier) {
        for (const r of s.outgoing.get(id) ?? []) {
          const t = r.$targetId;
          if (!t || seen.has(t) || !s.twins.has(t)) continue;
          seen.add(t);
          next.push(t);
          const groups = children.get(id) ?? new Map<string, string[]>();
          children.set(id, groups);
          const g = groups.get(r.$relationshipName) ?? [];
          g.push(t);
          groups.set(r.$relationshipName, g);
        }
      }
      frontier = next;
    }
    const node = (id: string, depth: number): HTMLElement => {
      const label = this.label(id);
      const groups = children.get(id);
      if (!groups) return el('div', { class: 'leaf' }, label);
      const d = el('details', depth < 1 ? { open: '' } : {});
      d.append(el('summary', {}, label));
      for (const [rel, ids] of [...groups.entries()].sort()) {
        const g = el('details', { class: 'group', 'data-rel': rel });
        if (ids.length <= 3 || depth < 1) g.open = true;
        g.append(el('summary', { class: 'rel' }, `${rel} (${ids.length})`));
        ids.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).forEach((c) => g.append(node(c, depth + 1)));
        d.append(g);
      }
      return d;
    };
    this.tree.replaceChildren(...roots.map((r) => node(r, 0)));
    this.count.textContent = `${s.twins.size} twins`;
  }

  private label(id: string): HTMLElement {
    const m = this.state.models.get(this.state.modelOf(id));
    const a = el('a', { href: `#twin=${encodeURIComponent(id)}`, class: 'twin', 'data-twin': id }, el('span', { class: 'id' }, id), el('span', { class: 'model' }, m?.displayName ?? ''));
    a.onclick = (ev) => {
      ev.preventDefault();
      ev.stopPropagation();
      this.onSelect(id);
    };
    return a;
  }

  private search(q: string): void {
    if (!q) {
      this.results.classList.add('hidden');
      this.tree.classList.remove('hidden');
      this.count.textContent = `${this.state.twins.size} twins`;
      return;
    }
    const needle = q.toLowerCase();
    const hits = [...this.state.twins.keys()].filter((id) => id.toLowerCase().includes(needle)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    this.results.replaceChildren(...hits.map((id) => el('li', {}, this.label(id))));
    this.results.classList.remove('hidden');
    this.tree.classList.add('hidden');
    this.count.textContent = `${hits.length} match${hits.length === 1 ? '' : 'es'}`;
    this.mark(this.selected);
  }

  mark(id: string | null): void {
    this.selected = id;
    this.host.querySelectorAll('a.twin.on').forEach((a) => a.classList.remove('on'));
    if (!id) return;
    this.host.querySelectorAll(`a.twin[data-twin="${CSS.escape(id)}"]`).forEach((a) => {
      a.classList.add('on');
      for (let p = a.parentElement; p && p !== this.host; p = p.parentElement) if (p instanceof HTMLDetailsElement) p.open = true;
    });
  }
}
