// An enterprise's standing (GET /api/v1/enterprises/{uscc}/standing): its list entries with
// their notice, validity, filing and health-check status (二.3–二.4), the incidents it
// reported itself, and, for the enterprise (and the administrator), the form to report an
// incident (主动报告, 四.9), which opens or joins its off-site inspection.
import { api, can } from '../api';
import { fmtDate, t, tk } from '../i18n';
import { clear, errorBox, field, form, h, loading } from '../ui';

interface Entry {
  id: number; status: string; notice_start?: string; notice_end?: string; valid_from?: string; valid_to?: string; renewals: number;
  removal_category?: string; removal_reason?: string; filed_at?: string; health_check?: string; health_check_due?: string;
}
interface Incident { id: number; occurred_at: string; description: string; measures: string; inspection_id: number; reported_by: string; reported_at: string }
interface Standing { list_entries: Entry[]; open_inspections: any[]; incidents?: Incident[] }

function entryLine(e: Entry): HTMLElement {
  return h('li', { class: 'entry-line', dataset: { id: String(e.id), status: e.status } },
    h('span', { class: 'status st-' + e.status }, tk('st_', e.status)), ' ',
    e.notice_start ? [t('list_notice'), ' ', fmtDate(e.notice_start), ' – ', fmtDate(e.notice_end), '; '] : null,
    e.valid_from ? h('span', { class: 'validity' }, t('list_valid'), ' ', fmtDate(e.valid_from), ' – ', fmtDate(e.valid_to)) : null,
    e.renewals ? [' ', h('span', { class: 'tag' }, t('sd_renewals', { n: e.renewals }))] : null,
    e.health_check ? [' ', h('span', { class: 'tag health', dataset: { health: e.health_check } }, t('list_health'), ' ', tk('hc_', e.health_check),
      e.health_check_due ? ' ' + t('sd_due', { at: fmtDate(e.health_check_due) }) : '')] : null,
    e.filed_at ? [' ', h('span', { class: 'muted small' }, t('filed_at', { at: fmtDate(e.filed_at) }))] : null,
    e.removal_category ? h('div', { class: 'small' }, t('removal_category'), ': ', tk('rc_', e.removal_category), ' — ', e.removal_reason || '') : null);
}

export function standingSection(uscc: string): HTMLElement {
  const el = h('section', { id: 'standing', class: 'card standing' }, h('h2', {}, t('sd_title')));
  const body = h('div', {}, loading());
  el.append(body);
  const reload = async () => {
    try {
      const st = await api<Standing>('GET', `/api/v1/enterprises/${encodeURIComponent(uscc)}/standing`);
      const incs = st.incidents || [];
      clear(body,
        st.list_entries.length ? h('ul', { class: 'list-entries' }, st.list_entries.map(entryLine)) : h('p', { class: 'empty' }, t('sd_not_listed')),
        h('p', { class: 'muted small' }, t('sd_open', { n: st.open_inspections.length })),
        h('h3', {}, t('sd_incidents')),
        incs.length ? h('table', { class: 'table incidents' },
          h('thead', {}, h('tr', {}, [t('sd_occurred'), t('sd_description'), t('sd_measures'), t('inspections')].map((c) => h('th', {}, c)))),
          h('tbody', {}, incs.map((i) => h('tr', { dataset: { id: String(i.id) } }, h('td', {}, fmtDate(i.occurred_at, true)), h('td', {}, i.description),
            h('td', {}, i.measures), h('td', {}, `#${i.inspection_id}`)))))
          : h('p', { class: 'empty' }, t('sd_no_incidents')));
    } catch (e) {
      clear(body, errorBox(e));
    }
  };
  if (can('POST /api/v1/incidents')) {
    el.append(h('details', { class: 'report-incident' }, h('summary', {}, t('sd_report')), h('p', { class: 'muted small' }, t('sd_report_help')),
      form([
        field(t('sd_occurred'), h('input', { type: 'datetime-local', name: 'occurred_at', required: true })),
        field(t('sd_description'), h('textarea', { name: 'description', rows: 2, required: true })),
        field(t('sd_measures'), h('textarea', { name: 'measures', rows: 2 })),
      ], t('sd_report'), async (v, f) => {
        await api('POST', '/api/v1/incidents', { uscc, occurred_at: new Date(v.occurred_at).toISOString(), description: v.description, measures: v.measures });
        f.reset();
        await reload();
        // The incident opened or joined an inspection: show it among the inspections.
        window.dispatchEvent(new CustomEvent('offsite:inspections'));
      }, { id: 'incident-form' })));
  }
  void reload();
  return el;
}
