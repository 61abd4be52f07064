// The DTDL models as the dashboard needs them: per model its properties, telemetry (with units),
// components, relationships and commands, with `extends` resolved. Built once from
// GET /models?includeModelDefinition=true; read-only afterwards.
import { getAll } from './api';

export type ContentKind = 'Property' | 'Telemetry' | 'Command' | 'Relationship' | 'Component';

export interface Content {
  kind: ContentKind;
  name: string;
  displayName: string;
  description: string;
  unit: string; // DTDL unit name, e.g. "degreeCelsius"; "" when none
  schema: unknown; // "double", a dtmi (components), or a complex schema object
  writable: boolean;
}

export interface ModelInfo {
  id: string;
  displayName: string;
  description: string;
  bases: string[]; // itself and every model it extends, nearest first
  contents: Content[]; // own and inherited
}

const UNIT_SYMBOLS: Record<string, string> = {
  degreeCelsius: '°C', degreeOfArc: '°', ampere: 'A', watt: 'W', kilowatt: 'kW', second: 's',
  millisecond: 'ms', metrePerSecond: 'm/s', metrePerSecondSquared: 'm/s²', kilogram: 'kg', metre: 'm',
  millimetre: 'mm', hertz: 'Hz', volt: 'V', percent: '%', radian: 'rad', newtonMetre: 'N·m',
};

export function unitSymbol(unit: string): string {
  return UNIT_SYMBOLS[unit] ?? unit;
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    const o = v as Record<string, string>;
    return o.en ?? Object.values(o)[0] ?? '';
  }
  return '';
}

function kindOf(type: unknown): ContentKind | null {
  const types = Array.isArray(type) ? type : [type];
  for (const t of types) {
    if (t === 'Property' || t === 'Telemetry' || t === 'Command' || t === 'Relationship' || t === 'Component') return t;
  }
  return null;
}

export interface RawModel {
  '@id': string;
  '@type'?: unknown;
  displayName?: unknown;
  description?: unknown;
  extends?: string | string[];
  contents?: Array<Record<string, unknown>>;
}

export class ModelRegistry {
  private models = new Map<string, ModelInfo>();

  static async load(): Promise<ModelRegistry> {
    const rows = await getAll<{ id: string; model?: RawModel }>('/models?includeModelDefinition=true');
    const reg = new ModelRegistry();
    reg.build(rows.flatMap((r) => (r.model ? [r.model] : [])));
    return reg;
  }

  build(raw: RawModel[]): void {
    const byId = new Map(raw.map((m) => [m['@id'], m]));
    const resolve = (id: string, seen: Set<string>): ModelInfo | undefined => {
      const done = this.models.get(id);
      if (done) return done;
      const m = byId.get(id);
      if (!m || seen.has(id)) return undefined;
      seen.add(id);
      const own: Content[] = (m.contents ?? []).flatMap((c) => {
        const kind = kindOf(c['@type']);
        if (!kind) return [];
        return [{
          kind, name: String(c.name), displayName: text(c.displayName) || String(c.name), description: text(c.description),
          unit: typeof c.unit === 'string' ? c.unit : '', schema: c.schema, writable: c.writable === true,
        }];
      });
      const bases = [id];
      const inherited: Content[] = [];
      const ext = m.extends === undefined ? [] : Array.isArray(m.extends) ? m.extends : [m.extends];
      for (const b of ext) {
        const base = resolve(b, seen);
        if (!base) continue;
        bases.push(...base.bases);
        inherited.push(...base.contents);
      }
      const info: ModelInfo = {
        id, displayName: text(m.displayName) || id.replace(/^dtmi:.*:/, '').replace(/;\d+$/, ''),
        description: text(m.description), bases, contents: [...inherited, ...own],
      };
      this.models.set(id, info);
      return info;
    };
    for (const id of byId.keys()) resolve(id, new Set());
  }

  get(id: string): ModelInfo | undefined {
    return this.models.get(id);
  }

  // True when `model` is `base` or extends it.
  isA(model: string, base: string): boolean {
    return this.models.get(model)?.bases.includes(base) ?? model === base;
  }

  // Contents of a component's schema, e.g. joint1 of a robot -> the Joint model's contents.
  componentModel(model: string, component: string): ModelInfo | undefined {
    const c = this.models.get(model)?.contents.find((x) => x.kind === 'Component' && x.name === component);
    return c && typeof c.schema === 'string' ? this.models.get(c.schema) : undefined;
  }
}
