// Captures as registered (the STAC collection "captures", in the order registered):
// acquisition date, kind and sensor, storage key, processing status and what ingest made of
// it; a failed one can be queued again. Registering a capture is on the registration page.
import { api, can } from '../api';
import { fmtBytes, fmtDate, t, tk } from '../i18n';
import { action, clear, errorBox, h, loading } from '../ui';

interface Capture {
  id: number; kind: string; acquired_at: string; sensor?: string; key: string; status: string; error?: string;
  ingested_at?: string; cog_key?: string; size_bytes?: number; ingest?: { conversion: string };
}

const pageSize = 50;

export async function capturesPage(app: HTMLElement, _p: string[], q: URLSearchParams): Promise<void> {
  const offset = Math.max(0, Number(q.get('offset')) || 0);
  const box = h('div', { id: 'capture-list' }, loading());
  app.append(h('h1', {}, t('cl_title')),
    can('POST /api/v1/captures') ? h('p', {}, h('a', { href: '#/manage', id: 'cl-register' }, t('mg_capture'))) : '', box);
  const load = async () => {
    try {
      const items = await api<{ features: { id: string }[]; numberMatched?: number }>('GET', `/stac/collections/captures/items?limit=${pageSize}&offset=${offset}`);
      const caps = await Promise.all((items.features || []).map((f) => api<Capture>('GET', `/api/v1/captures/${f.id}`)));
      const more = caps.length === pageSize;
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
        h('p', { class: 'pager' },
          offset > 0 ? h('a', { href: `#/captures?offset=${Math.max(0, offset - pageSize)}` }, t('cl_prev')) : null, ' ',
          more ? h('a', { href: `#/captures?offset=${offset + pageSize}` }, t('cl_next')) : null)]);
    } catch (e) {
      clear(box, errorBox(e, load));
    }
  };
  await load();
}
