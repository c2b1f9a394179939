// Captures as registered, newest first (GET /api/v1/captures, one request a page), filtered
// by kind, processing status and acquisition dates: acquisition date, kind and sensor,
// storage key, processing status and what ingest made of it; a failed one can be queued
// again. Registering a capture is on the registration page.
import { api, can } from '../api';
import { fmtBytes, fmtDate, t, tk } from '../i18n';
import { uiConfig } from '../map';
import { action, clear, errorBox, field, filterForm, h, loading, pager, select } from '../ui';

interface Capture {
  id: number; kind: string; acquired_at: string; sensor?: string; key: string; status: string; error?: string;
  ingested_at?: string; cog_key?: string; size_bytes?: number; ingest?: { conversion: string };
}

const statuses = ['registered', 'queued', 'processing', 'processed', 'failed'];
const pageSize = 50;

export async function capturesPage(app: HTMLElement, _p: string[], q: URLSearchParams): Promise<void> {
  const offset = Math.max(0, Number(q.get('offset')) || 0);
  const val = (k: string) => q.get(k) || '';
  const filters = filterForm('#/captures', 'cl-filters',
    field(t('cl_kind'), select('kind', [['', t('all')], ...uiConfig().capture_kinds.map((k) => [k, tk('cap_', k)] as [string, string])], val('kind'))),
    field(t('cl_status'), select('status', [['', t('all')], ...statuses.map((s) => [s, tk('capst_', s)] as [string, string])], val('status'))),
    field(t('cl_from'), h('input', { type: 'date', name: 'from', value: val('from') })),
    field(t('cl_to'), h('input', { type: 'date', name: 'to', value: val('to') })));
  const box = h('div', { id: 'capture-list' }, loading());
  app.append(h('h1', {}, t('cl_title')),
    can('POST /api/v1/captures') ? h('p', {}, h('a', { href: '#/manage', id: 'cl-register' }, t('mg_capture'))) : '', filters, box);
  const params = new URLSearchParams(q);
  params.set('limit', String(pageSize));
  params.set('offset', String(offset));
  if (params.get('to')) {
    // The day entered is included: acquired before the day after it.
    params.set('to', new Date(Date.parse(params.get('to') + 'T00:00:00Z') + 86400e3).toISOString().slice(0, 10));
  }
  const load = async () => {
    try {
      const res = await api<{ captures: Capture[]; total: number }>('GET', '/api/v1/captures?' + params.toString());
      const caps = res.captures;
      clear(box, !caps.length ? h('p', { class: 'empty' }, t('cl_none')) : [
        h('table', { class: 'table' },
          h('thead', {}, h('tr', {}, [t('cl_date'), t('cl_kind'), t('cl_key'), t('cl_status'), t('cl_ingest')].map((c) => h('th', {}, c)))),
          h('tbody', {}, caps.map((c) => h('tr', { dataset: { id: String(c.id), status: c.status } },
            h('td', {}, fmtDate(c.acquired_at, true)),
            h('td', {}, tk('cap_', c.kind), c.sensor && c.sensor !== c.kind ? h('small', {}, ' ', c.sensor) : null),
            h('td', {}, h('code', {}, c.key)),
            h('td', {}, h('span', { class: 'status' }, tk('capst_', c.status)), c.error ? h('p', { class: 'small error' }, c.error) : null,
              c.status === 'failed' && can('POST /api/v1/captures/{id}/process')
                ? action(t('cl_again'), async () => { await api('POST', `/api/v1/captures/${c.id}/process`, {}); await load(); }, { class: 'cl-again' }) : null),
            h('td', {}, c.ingested_at ? t('cl_ingested', { at: fmtDate(c.ingested_at, true), size: c.size_bytes ? fmtBytes(c.size_bytes) : '—' }) : t('cl_not_ingested'),
              c.cog_key ? h('small', {}, ' · ', t('cl_cog')) : null))))),
        pager('#/captures', q, offset, pageSize, caps.length, res.total)]);
      box.dataset.query = q.toString(); // shown for this query (the browser test waits for it)
    } catch (e) {
      clear(box, errorBox(e, load));
    }
  };
  await load();
}
