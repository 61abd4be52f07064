// Health of a twin for colouring: from its status, joint temperatures against maxTemperature and
// vibration. Pure functions of the plant state; the thresholds are the dashboard's, documented in
// docs/dashboard.md.
import type { PlantState } from './state';

export type Health = 'ok' | 'warn' | 'alarm' | 'stopped' | 'maintenance' | 'unknown';

export const HEALTH_COLORS: Record<Health, number> = {
  ok: 0x2fbf71,
  warn: 0xf2a93b,
  alarm: 0xf0454b,
  stopped: 0x7a8594,
  maintenance: 0x4c8dff,
  unknown: 0x4a5563,
};

export const VIBRATION_WARN = 1.5; // m/s² RMS; a healthy robot runs at 0.3-0.8
export const VIBRATION_ALARM = 4;
export const TEMPERATURE_MARGIN = 10; // °C below maxTemperature: warn

export function statusHealth(status: unknown): Health | null {
  switch (status) {
    case 'fault': case 'error': case 'failed':
      return 'alarm';
    case 'stopped': case 'idle': case 'off':
      return 'stopped';
    case 'maintenance':
      return 'maintenance';
    case 'running': case 'ok': case 'auto':
      return 'ok';
    default:
      return null;
  }
}

export function robotHealth(s: PlantState, id: string): { health: Health; why: string } {
  const status = s.get(id, undefined, 'status')?.value;
  const sh = statusHealth(status);
  if (sh === 'alarm') return { health: 'alarm', why: `status ${String(status)}` };
  if (sh === 'stopped' || sh === 'maintenance') return { health: sh, why: `status ${String(status)}` };
  let worst: Health = sh ?? 'unknown';
  let why = status === undefined ? 'no data yet' : `status ${String(status)}`;
  for (let j = 1; j <= 6; j++) {
    const t = s.num(id, `joint${j}`, 'temperature');
    const max = s.num(id, `joint${j}`, 'maxTemperature') ?? 90;
    if (t === undefined) continue;
    if (t >= max) return { health: 'alarm', why: `joint${j} at ${t.toFixed(1)} °C ≥ max ${max} °C` };
    if (t >= max - TEMPERATURE_MARGIN && worst !== 'warn') {
      worst = 'warn';
      why = `joint${j} at ${t.toFixed(1)} °C, near max ${max} °C`;
    }
  }
  const vib = s.num(id, undefined, 'vibrationRms');
  if (vib !== undefined && vib >= VIBRATION_ALARM) return { health: 'alarm', why: `vibration ${vib.toFixed(2)} m/s²` };
  if (vib !== undefined && vib >= VIBRATION_WARN) return { health: 'warn', why: `vibration ${vib.toFixed(2)} m/s²` };
  return { health: worst, why };
}

export function genericHealth(s: PlantState, id: string): { health: Health; why: string } {
  const status = s.get(id, undefined, 'status')?.value;
  const sh = statusHealth(status);
  if (sh) return { health: sh, why: `status ${String(status)}` };
  return { health: status === undefined ? 'unknown' : 'ok', why: status === undefined ? 'no status' : `status ${String(status)}` };
}
