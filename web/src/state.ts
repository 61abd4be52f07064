// What the dashboard knows about the plant: twins, relationships and the latest value of every
// (twin, component, name) it has heard of, with when it changed. Live updates are applied in
// batches (one per animation frame); views read from here and never from the network.
import type { Relationship, Twin } from './api';
import type { ModelRegistry } from './models';

export interface Update {
  twin: string;
  component?: string;
  name: string;
  value: unknown;
  sourceTime?: string; // RFC 3339, from the stream
  kind?: string; // "telemetry" | "property"
}

export interface Latest {
  value: unknown;
  time: number; // ms since 1970: source time when known, else when received
  seen: number; // ms since 1970: when Castor (lastUpdateTime) or the dashboard (stream) got it
}

export function valueKey(twin: string, component: string | undefined, name: string): string {
  return twin + '\u0000' + (component ?? '') + '\u0000' + name;
}

export function parseTime(t: string | undefined): number {
  if (!t) return Date.now();
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? Date.now() : ms;
}

export class PlantState {
  readonly twins = new Map<string, Twin>();
  readonly outgoing = new Map<string, Relationship[]>();
  readonly incoming = new Map<string, Relationship[]>();
  readonly latest = new Map<string, Latest>();
  private listeners: Array<(twins: Set<string>, updates: Update[]) => void> = [];

  constructor(readonly models: ModelRegistry) {}

  setTwins(twins: Twin[]): void {
    for (const t of twins) this.twins.set(t.$dtId, t);
    for (const t of twins) this.seedFromTwin(t);
  }

  setRelationships(rels: Relationship[]): void {
    for (const r of rels) {
      if (!r.$targetId) continue;
      const out = this.outgoing.get(r.$sourceId) ?? [];
      out.push(r);
      this.outgoing.set(r.$sourceId, out);
      const inc = this.incoming.get(r.$targetId) ?? [];
      inc.push(r);
      this.incoming.set(r.$targetId, inc);
    }
  }

  // Property values of the twin document (and its components) as latest values.
  private seedFromTwin(t: Twin): void {
    const meta = t.$metadata as Record<string, { lastUpdateTime?: string; sourceTime?: string } | string>;
    for (const [k, v] of Object.entries(t)) {
      if (k.startsWith('$')) continue;
      const m = meta[k];
      const at = typeof m === 'object' && m ? parseTime(m.sourceTime ?? m.lastUpdateTime) : Date.now();
      const seen = typeof m === 'object' && m ? parseTime(m.lastUpdateTime) : Date.now();
      if (v && typeof v === 'object' && '$metadata' in (v as object)) {
        const comp = v as Record<string, unknown>;
        const cmeta = (comp.$metadata ?? {}) as Record<string, { lastUpdateTime?: string; sourceTime?: string }>;
        for (const [ck, cv] of Object.entries(comp)) {
          if (ck.startsWith('$')) continue;
          const cm = cmeta[ck];
          this.latest.set(valueKey(t.$dtId, k, ck), {
            value: cv, time: parseTime(cm?.sourceTime ?? cm?.lastUpdateTime), seen: parseTime(cm?.lastUpdateTime),
          });
        }
        continue;
      }
      this.latest.set(valueKey(t.$dtId, undefined, k), { value: v, time: at, seen });
    }
  }

  get(twin: string, component: string | undefined, name: string): Latest | undefined {
    return this.latest.get(valueKey(twin, component, name));
  }

  num(twin: string, component: string | undefined, name: string): number | undefined {
    const v = this.latest.get(valueKey(twin, component, name))?.value;
    return typeof v === 'number' ? v : undefined;
  }

  modelOf(twin: string): string {
    return this.twins.get(twin)?.$metadata.$model ?? '';
  }

  onUpdate(fn: (twins: Set<string>, updates: Update[]) => void): void {
    this.listeners.push(fn);
  }

  apply(updates: Update[]): void {
    if (!updates.length) return;
    const touched = new Set<string>();
    const now = Date.now();
    for (const u of updates) {
      const key = valueKey(u.twin, u.component, u.name);
      const time = parseTime(u.sourceTime);
      const prev = this.latest.get(key);
      if (prev && prev.time > time) continue; // an older value never replaces a newer one
      this.latest.set(key, { value: u.value, time, seen: now });
      touched.add(u.twin);
    }
    for (const fn of this.listeners) fn(touched, updates);
  }
}
