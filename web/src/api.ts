// The dashboard's HTTP client: the ADT data-plane routes (api-version added here) and Castor's
// /castor/v1 routes, on the origin that served the page. Errors keep the ADT error shape's code
// and message; nothing here touches the DOM.

export const API_VERSION = '2023-10-31';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// A bearer token for servers that require one (not --insecure-local), kept for the browser tab.
const TOKEN_KEY = 'castor-token';
export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(t: string | null): void {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function withVersion(path: string): string {
  if (path.startsWith('/castor/')) return path;
  return path + (path.includes('?') ? '&' : '?') + 'api-version=' + API_VERSION;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<{ data: T; headers: Headers }> {
  const init: RequestInit = { method, headers: { Accept: 'application/json' } };
  const t = token();
  if (t) (init.headers as Record<string, string>).Authorization = `Bearer ${t}`;
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  const res = await fetch(withVersion(path), init);
  const text = await res.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? `HTTP ${res.status}`, err?.message ?? (text.slice(0, 300) || res.statusText));
  }
  return { data: data as T, headers: res.headers };
}

export async function getJson<T>(path: string): Promise<T> {
  return (await request<T>('GET', path)).data;
}

// Follows nextLink pages of an ADT list.
export async function getAll<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined = path;
  while (next) {
    const page: { value: T[]; nextLink?: string } = await getJson(next);
    out.push(...page.value);
    next = page.nextLink ? new URL(page.nextLink, location.href).pathname + new URL(page.nextLink, location.href).search : undefined;
  }
  return out;
}

export interface QueryPage<T> {
  value: T[];
  continuationToken?: string;
  charge?: string;
}

export async function queryPage<T>(query: string | { continuationToken: string }): Promise<QueryPage<T>> {
  const body = typeof query === 'string' ? { query } : query;
  const { data, headers } = await request<{ value: T[]; continuationToken?: string }>('POST', '/query', body);
  return { value: data.value, continuationToken: data.continuationToken ?? undefined, charge: headers.get('query-charge') ?? undefined };
}

// Every row of a query, following continuation tokens.
export async function queryAll<T>(query: string): Promise<T[]> {
  const out: T[] = [];
  let page = await queryPage<T>(query);
  out.push(...page.value);
  while (page.continuationToken) {
    page = await queryPage<T>({ continuationToken: page.continuationToken });
    out.push(...page.value);
  }
  return out;
}

export interface Twin {
  $dtId: string;
  $etag?: string;
  $metadata: { $model: string; $lastUpdateTime?: string; [name: string]: unknown };
  [name: string]: unknown;
}

export interface Relationship {
  $relationshipId: string;
  $sourceId: string;
  $targetId?: string;
  $relationshipName: string;
}

export interface Series {
  twin: string;
  component: string;
  name: string;
  columns: string[];
  points: Array<Array<number | string | boolean | null>>;
  truncated?: boolean;
}

export interface HistoryRequest {
  twin?: string;
  model?: string;
  component?: string;
  name: string;
  from?: number; // ms since 1970
  to?: number;
  step?: string;
  agg?: string;
  limit?: number;
}

function historyParams(r: HistoryRequest): string {
  const p = new URLSearchParams();
  if (r.twin) p.set('twin', r.twin);
  if (r.model) p.set('model', r.model);
  if (r.component) p.set('component', r.component);
  p.set('name', r.name);
  if (r.from !== undefined) p.set('from', String(BigInt(Math.floor(r.from)) * 1000000n));
  if (r.to !== undefined) p.set('to', String(BigInt(Math.floor(r.to)) * 1000000n));
  if (r.step) p.set('step', r.step);
  if (r.agg) p.set('agg', r.agg);
  if (r.limit) p.set('limit', String(r.limit));
  return p.toString();
}

export async function history(r: HistoryRequest): Promise<Series> {
  return getJson<Series>('/castor/v1/history?' + historyParams(r));
}

export async function latestOfModel(model: string, name: string, component?: string): Promise<Series[]> {
  const res = await getJson<{ series: Series[] }>('/castor/v1/history/latest?' + historyParams({ model, name, component }));
  return res.series;
}

export async function latestOfTwin(twin: string, name: string, component?: string): Promise<Series | null> {
  try {
    return await getJson<Series>('/castor/v1/history/latest?' + historyParams({ twin, name, component }));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}
