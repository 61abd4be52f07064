// Live values for the dashboard: /castor/v1/stream over WebSocket (two connections: the plant's
// animated names, and everything of the selected twin). Messages are coalesced per series and
// handed over once per animation frame by drain(). When the stream route is missing (an older
// server) it falls back to polling /castor/v1/history/latest and says so.
import { latestOfModel, latestOfTwin, token } from './api';
import type { ModelRegistry } from './models';
import type { Update } from './state';
import { valueKey } from './state';

export type FeedMode = 'connecting' | 'stream' | 'polling' | 'offline' | 'synthetic';

interface Filter {
  twins?: string[];
  models?: string[];
  names?: string[];
}

function streamUrl(f: Filter): string {
  const p = new URLSearchParams();
  if (f.twins?.length) p.set('twins', f.twins.join(','));
  if (f.models?.length) p.set('models', f.models.join(','));
  if (f.names?.length) p.set('names', f.names.join(','));
  p.set('batch', 'true'); // several values per message: fewer message events for the page
  // Browsers cannot send an Authorization header on a WebSocket: the stream takes the token as
  // ?access_token= instead (docs/security.md).
  const t = token();
  if (t) p.set('access_token', t);
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/castor/v1/stream?${p.toString()}`;
}

// One WebSocket subscription that reconnects with backoff; calls onOpen/onFail for the feed.
class Subscription {
  private ws: WebSocket | null = null;
  private closed = false;
  private retry = 500;
  opened = false;

  constructor(
    private filter: Filter,
    private onMessage: (u: Update, skipped: number) => void,
    private onState: (open: boolean, everOpened: boolean) => void,
  ) {
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    const ws = new WebSocket(streamUrl(this.filter));
    this.ws = ws;
    ws.onopen = () => {
      this.opened = true;
      this.retry = 500;
      this.onState(true, true);
    };
    ws.onmessage = (ev) => {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      const one = (v: Record<string, unknown>): void => {
        this.onMessage(
          {
            twin: String(v.twin), component: typeof v.component === 'string' ? v.component : undefined, name: String(v.name),
            value: v.value, sourceTime: typeof v.sourceTime === 'string' ? v.sourceTime : undefined,
            kind: typeof v.kind === 'string' ? v.kind : undefined,
          },
          typeof v.skipped === 'number' ? v.skipped : 0,
        );
      };
      if (m.type === 'value') one(m);
      else if (m.type === 'values' && Array.isArray(m.values)) for (const v of m.values) one(v as Record<string, unknown>);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.onState(false, this.opened);
      if (this.closed) return;
      setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 10000);
    };
  }

  resubscribe(filter: Filter): void {
    this.filter = filter;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ subscribe: { twins: filter.twins ?? [], models: filter.models ?? [], names: filter.names ?? [], exact: false, batch: true } }));
    }
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
  }
}

export interface PollSeries {
  model: string;
  component?: string;
  name: string;
}

export class LiveFeed {
  private pending = new Map<string, Update>();
  private plant: Subscription | null = null;
  private twin: Subscription | null = null;
  private pollTimer: number | undefined;
  private selected: string | null = null;
  mode: FeedMode = 'connecting';
  messages = 0; // value messages received
  skipped = 0; // values the server dropped because we were slow

  constructor(
    private models: ModelRegistry,
    private plantNames: string[],
    private pollPlan: PollSeries[],
    private onMode: (m: FeedMode) => void,
  ) {}

  start(): void {
    this.plant = new Subscription({ names: this.plantNames }, (u, s) => this.push(u, s), (open, ever) => {
      if (open) return this.setMode('stream');
      if (!ever) this.startPolling(); // the route is missing: poll instead
      else this.setMode('connecting');
    });
  }

  private setMode(m: FeedMode): void {
    if (m === 'stream' && this.pollTimer !== undefined) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
    this.mode = m;
    this.onMode(m);
  }

  private push(u: Update, skipped: number): void {
    this.messages++;
    this.skipped += skipped;
    this.pending.set(valueKey(u.twin, u.component, u.name), u);
  }

  // The updates since the last call, one per series (the newest).
  drain(): Update[] {
    if (!this.pending.size) return [];
    const out = [...this.pending.values()];
    this.pending.clear();
    return out;
  }

  select(twin: string | null): void {
    this.selected = twin;
    if (this.mode === 'polling') return;
    if (!twin) {
      this.twin?.close();
      this.twin = null;
      return;
    }
    if (this.twin) this.twin.resubscribe({ twins: [twin] });
    else this.twin = new Subscription({ twins: [twin] }, (u, s) => this.push(u, s), () => {});
  }

  private startPolling(): void {
    if (this.pollTimer !== undefined) return;
    this.plant?.close();
    this.plant = null;
    this.setMode('polling');
    let busy = false;
    const tick = async () => {
      if (busy) return;
      busy = true;
      try {
        await Promise.all(this.pollPlan.map(async (p) => {
          for (const s of await latestOfModel(p.model, p.name, p.component)) {
            const pt = s.points[0];
            if (!pt) continue;
            this.push({ twin: s.twin, component: s.component || undefined, name: s.name, value: pt[1], sourceTime: new Date(Number(pt[0]) / 1e6).toISOString() }, 0);
          }
        }));
        if (this.selected) await this.pollTwin(this.selected);
      } catch {
        /* the next tick tries again */
      } finally {
        busy = false;
      }
    };
    void tick();
    this.pollTimer = window.setInterval(() => void tick(), 1000);
  }

  private async pollTwin(id: string): Promise<void> {
    const model = this.models.get(this.modelOf(id));
    if (!model) return;
    const series: Array<{ component?: string; name: string }> = [];
    for (const c of model.contents) {
      if (c.kind === 'Telemetry') series.push({ name: c.name });
      if (c.kind === 'Component') {
        for (const cc of this.models.componentModel(model.id, c.name)?.contents ?? []) {
          if (cc.kind === 'Telemetry') series.push({ component: c.name, name: cc.name });
        }
      }
    }
    await Promise.all(series.map(async (s) => {
      const r = await latestOfTwin(id, s.name, s.component);
      const pt = r?.points[0];
      if (pt) this.push({ twin: id, component: s.component, name: s.name, value: pt[1], sourceTime: new Date(Number(pt[0]) / 1e6).toISOString() }, 0);
    }));
  }

  modelOf: (twin: string) => string = () => '';
}
