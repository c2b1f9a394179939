// Health-check (体检式) visits of an enterprise (二.4): the visits recorded, and for the
// roles that may record one, a form (date and notes). Whether a listed enterprise's visit is
// due shows on the positive-list page (health_check: done, pending, due, overdue).
import { api, can } from '../api';
import { fmtDate, t } from '../i18n';
import { clear, errorBox, field, form, h, loading } from '../ui';

interface Visit { id: number; visited_at: string; inspector: string; notes: string }

export function healthVisitsSection(uscc: string): HTMLElement {
  const el = h('section', { id: 'health-visits', class: 'card' }, h('h2', {}, t('hv_title')));
  const list = h('div', {}, loading());
  el.append(list);
  const path = `/api/v1/enterprises/${encodeURIComponent(uscc)}/health-visits`;
  const reload = async () => {
    try {
      const r = await api<{ visits: Visit[] | null }>('GET', path);
      const vs = r.visits || [];
      clear(list, vs.length
        ? h('table', { class: 'table' }, h('thead', {}, h('tr', {}, [t('hv_date'), t('hv_inspector'), t('notes')].map((c) => h('th', {}, c)))),
          h('tbody', {}, vs.map((v) => h('tr', { dataset: { id: String(v.id) } }, h('td', {}, fmtDate(v.visited_at)), h('td', {}, v.inspector), h('td', {}, v.notes)))))
        : h('p', { class: 'empty' }, t('hv_none')));
    } catch (e) {
      clear(list, errorBox(e));
    }
  };
  if (can('POST /api/v1/enterprises/{uscc}/health-visits')) {
    el.append(form([field(t('hv_date'), h('input', { type: 'date', name: 'visited_at', required: true })), field(t('notes'), h('input', { name: 'notes' }))],
      t('hv_record'), async (v) => {
        // The visit's day, at noon China time, so that the date shown is the one entered.
        await api('POST', path, { visited_at: `${v.visited_at}T12:00:00+08:00`, notes: v.notes || '' });
        await reload();
      }, { class: 'inline-form hv-form' }));
  }
  void reload();
  return el;
}
