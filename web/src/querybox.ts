// The query box: POST /query with the ADT query language, results as a table (first page, then
// "more" with the continuation token), errors in the ADT shape's words.
import { ApiError, queryPage } from './api';
import { el } from './panel';

const EXAMPLES = [
  "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:castor:factory:Robot;1') AND T.status = 'running'",
  "SELECT T.$dtId, T.status, T.cycleCount FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:castor:factory:Robot;1')",
  "SELECT COUNT() FROM DIGITALTWINS",
  "SELECT R FROM DIGITALTWINS L JOIN R RELATED L.hasRobot WHERE L.$dtId = 'line-01'",
];

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') {
    const s = JSON.stringify(v);
    return s.length > 120 ? s.slice(0, 117) + '…' : s;
  }
  return String(v);
}

export class QueryBox {
  private out: HTMLElement;
  private status: HTMLElement;
  private rows: Array<Record<string, unknown>> = [];

  constructor(host: HTMLElement, private onSelect: (id: string) => void) {
    const text = el('textarea', { id: 'query-text', rows: '5', spellcheck: 'false' });
    text.value = EXAMPLES[1];
    const run = el('button', { id: 'query-run', class: 'primary' }, 'Run');
    const examples = el('select', { id: 'query-examples' }, el('option', { value: '' }, 'Examples…'), ...EXAMPLES.map((q) => el('option', { value: q }, q.length > 60 ? q.slice(0, 57) + '…' : q)));
    examples.onchange = () => {
      if (examples.value) text.value = examples.value;
      examples.value = '';
    };
    this.status = el('div', { class: 'muted small', id: 'query-status' });
    this.out = el('div', { class: 'query-out', id: 'query-out' });
    run.onclick = () => void this.run(text.value);
    text.onkeydown = (ev) => {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) void this.run(text.value);
    };
    host.replaceChildren(text, el('div', { class: 'row' }, run, examples), this.status, this.out);
  }

  private async run(q: string, token?: string): Promise<void> {
    this.status.textContent = 'running…';
    this.status.classList.remove('error');
    try {
      const page = await queryPage<Record<string, unknown>>(token ? { continuationToken: token } : q);
      if (!token) this.rows = [];
      this.rows.push(...page.value);
      this.render(page.continuationToken, q);
      this.status.textContent = `${this.rows.length} row${this.rows.length === 1 ? '' : 's'}${page.continuationToken ? ' (more available)' : ''}${page.charge ? ` · charge ${page.charge}` : ''}`;
    } catch (e) {
      this.status.classList.add('error');
      this.status.textContent = e instanceof ApiError ? `${e.code}: ${e.message}` : String(e);
      if (!token) this.out.replaceChildren();
    }
  }

  private render(token: string | undefined, q: string): void {
    const cols: string[] = [];
    for (const r of this.rows.slice(0, 200)) for (const k of Object.keys(r)) if (!cols.includes(k) && k !== '$metadata' && k !== '$etag') cols.push(k);
    const table = el('table', { class: 'results-table' },
      el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', {}, c)))),
      el('tbody', {}, ...this.rows.map((r) => el('tr', {}, ...cols.map((c) => {
        const td = el('td', {}, cell(r[c]));
        if (c === '$dtId' && typeof r[c] === 'string') {
          td.className = 'link';
          td.onclick = () => this.onSelect(r[c] as string);
        }
        return td;
      })))));
    const parts: HTMLElement[] = [table];
    if (token) {
      const more = el('button', {}, 'Load more');
      more.onclick = () => void this.run(q, token);
      parts.push(more);
    }
    this.out.replaceChildren(...parts);
  }
}
