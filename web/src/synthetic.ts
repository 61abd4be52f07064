// The dashboard's synthetic mode (/?synthetic=1000): a generated plant of N robots on 10 lines
// (fewer below 100 robots), laid out like `castor demo --robots N`, whose robots run
// pick-and-place cycles in the browser, reporting each joint angle once a second like the
// simulator at --rate 1. It needs no server data and is
// labelled SYNTHETIC on screen; it exists to measure the 3D view without the plant simulator and
// the server competing for the same CPU (bench/load/dashboard_fps.mjs --synthetic).
import type { Relationship, Twin } from './api';
import type { FeedMode } from './live';
import { ModelRegistry } from './models';
import type { Update } from './state';

const F = 'dtmi:castor:factory:';
const tele = (name: string, unit = '') => ({ '@type': unit ? ['Telemetry', 'X'] : 'Telemetry', name, schema: 'double', ...(unit ? { unit } : {}) });
const prop = (name: string, schema = 'string') => ({ '@type': 'Property', name, schema });
const rel = (name: string) => ({ '@type': 'Relationship', name });

export function syntheticModels(): ModelRegistry {
  const reg = new ModelRegistry();
  reg.build([
    { '@id': F + 'Factory;1', displayName: 'Factory', contents: [prop('name'), rel('contains')] },
    { '@id': F + 'Line;1', displayName: 'Production line', contents: [prop('name'), prop('index', 'integer'), rel('hasConveyor'), rel('hasRobot'), rel('hasController')] },
    { '@id': F + 'Joint;1', displayName: 'Joint', contents: [tele('angle', 'degreeOfArc'), tele('temperature', 'degreeCelsius'), prop('maxTemperature', 'double')] },
    { '@id': F + 'Robot;1', displayName: 'Industrial robot', contents: [...[1, 2, 3, 4, 5, 6].map((j) => ({ '@type': 'Component', name: `joint${j}`, schema: F + 'Joint;1' })), tele('vibrationRms', 'metrePerSecondSquared'), prop('status')] },
    { '@id': F + 'Conveyor;1', displayName: 'Conveyor', contents: [tele('speed', 'metrePerSecond'), tele('load', 'kilogram'), prop('status'), prop('lengthM', 'double')] },
    { '@id': F + 'LineController;1', displayName: 'Line controller', contents: [prop('status')] },
  ]);
  return reg;
}

export function syntheticPlant(robots: number): { twins: Twin[]; rels: Relationship[] } {
  const lines = Math.min(10, Math.max(1, Math.round(robots / 10))); // like castor demo: 10 lines
  const twins: Twin[] = [];
  const rels: Relationship[] = [];
  const twin = (id: string, model: string, props: Record<string, unknown> = {}) => twins.push({ $dtId: id, $metadata: { $model: F + model + ';1' }, ...props });
  const link = (src: string, name: string, dst: string) => rels.push({ $relationshipId: `${name}-${dst}`, $sourceId: src, $targetId: dst, $relationshipName: name });
  twin('factory', 'Factory', { name: 'Synthetic plant' });
  const pad = (n: number) => String(n).padStart(2, '0');
  for (let l = 1; l <= lines; l++) {
    const line = `line-${pad(l)}`;
    twin(line, 'Line', { index: l, name: `Line ${l}` });
    link('factory', 'contains', line);
    twin(`conveyor-${pad(l)}`, 'Conveyor', { status: 'running', lengthM: 24 });
    link(line, 'hasConveyor', `conveyor-${pad(l)}`);
    twin(`controller-${pad(l)}`, 'LineController', { status: 'running' });
    link(line, 'hasController', `controller-${pad(l)}`);
  }
  for (let i = 0; i < robots; i++) {
    const l = (i % lines) + 1, k = Math.floor(i / lines) + 1;
    const id = `robot-${pad(l)}-${String(k).padStart(k > 99 ? 3 : 2, '0')}`;
    twin(id, 'Robot', { status: 'running' });
    link(`line-${pad(l)}`, 'hasRobot', id);
  }
  return { twins, rels };
}

const PICK = [-60, 40, -70, 0, 30, 0];
const PLACE = [60, 25, -50, 0, 45, 90];

// Pick-and-place cycles of about 4 s; each robot reports its six angles once a second (staggered).
export class SyntheticFeed {
  mode: FeedMode = 'synthetic';
  messages = 0;
  private next: Float64Array;
  private phase: Float64Array;
  private start0 = performance.now();

  constructor(private robots: string[], private conveyors: string[], private onMode: (m: FeedMode) => void) {
    this.next = new Float64Array(robots.length).map(() => Math.random() * 1000);
    this.phase = new Float64Array(robots.length).map(() => Math.random());
  }

  start(): void {
    this.onMode('synthetic');
  }

  select(): void {}

  drain(): Update[] {
    const now = performance.now() - this.start0;
    const out: Update[] = [];
    const t = new Date().toISOString();
    for (let i = 0; i < this.robots.length; i++) {
      if (this.next[i] > now) continue;
      this.next[i] = now + 1000;
      const p = (now / 4000 + this.phase[i]) % 1;
      const s = p < 0.5 ? p * 2 : 2 - p * 2; // 0 -> 1 -> 0
      const e = s * s * (3 - 2 * s); // smooth
      for (let j = 0; j < 6; j++) {
        out.push({ twin: this.robots[i], component: `joint${j + 1}`, name: 'angle', value: PICK[j] + (PLACE[j] - PICK[j]) * e, sourceTime: t });
      }
      out.push({ twin: this.robots[i], name: 'vibrationRms', value: 0.3 + 0.3 * Math.random(), sourceTime: t });
    }
    if (Math.floor(now / 1000) !== Math.floor((now - 20) / 1000)) {
      for (const c of this.conveyors) {
        out.push({ twin: c, name: 'speed', value: 0.5, sourceTime: t }, { twin: c, name: 'load', value: 40, sourceTime: t });
      }
    }
    this.messages += out.length;
    return out;
  }
}
