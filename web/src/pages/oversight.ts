// Oversight: statistics for supervisors (GET /api/v1/stats: warnings and findings by zone
// and month, self-check response times, list entries by status, listed enterprises
// inspected on site, waived penalties) and the audit chain check (GET /api/v1/audit/verify)
// for the roles that may run it.
import { api, can } from '../api';
import { fmtDate, t, tk } from '../i18n';
import { action, clear, errorBox, field, form, h, loading } from '../ui';

interface ZoneMonth { zone: string; month: string; count: number }
interface Stats {
  from: string; to: string; listed_site_inspections: number; waived_penalties: number;
  warnings: ZoneMonth[]; findings: ZoneMonth[];
  self_check: { requested: number; answered: number; late: number; overdue: number; median_hours: number; p90_hours: number };
  list_status: Record<string, number>;
}

// byMonth lays zone-month counts out as a table: a row per month, a column per zone.
function byMonth(id: string, title: string, rows: ZoneMonth[]): HTMLElement {
  if (!rows.length) return h('div', { id }, h('h3', {}, title), h('p', { class: 'empty' }, t('none')));
  const zones = [...new Set(rows.map((r) => r.zone))].sort();
  const months = [...new Set(rows.map((r) => r.month))].sort();
  const at = new Map(rows.map((r) => [`${r.month}|${r.zone}`, r.count]));
  return h('div', { id }, h('h3', {}, title),
    h('table', { class: 'table stats-month' },
      h('thead', {}, h('tr', {}, h('th', {}, t('ov_month')), zones.map((z) => h('th', {}, z || t('ov_no_zone'))), h('th', {}, t('ov_total')))),
      h('tbody', {}, months.map((m) => h('tr', { dataset: { month: m } }, h('td', {}, m),
        zones.map((z) => h('td', {}, String(at.get(`${m}|${z}`) ?? 0))),
        h('td', {}, h('strong', {}, String(zones.reduce((s, z) => s + (at.get(`${m}|${z}`) ?? 0), 0)))))))));
}

function statsView(st: Stats): HTMLElement {
  const sc = st.self_check;
  return h('div', { id: 'stats' },
    h('p', { class: 'muted' }, fmtDate(st.from), ' – ', fmtDate(st.to)),
    h('dl', { class: 'facts' },
      h('dt', {}, t('ov_listed_site')), h('dd', { id: 'stat-listed-site' }, String(st.listed_site_inspections)),
      h('dt', {}, t('ov_waived')), h('dd', {}, String(st.waived_penalties)),
      h('dt', {}, t('ov_self_check')), h('dd', {}, t('ov_self_check_v', { requested: sc.requested, answered: sc.answered, late: sc.late, overdue: sc.overdue,
        median: sc.median_hours.toFixed(1), p90: sc.p90_hours.toFixed(1) })),
      h('dt', {}, t('ov_list_status')), h('dd', {}, Object.entries(st.list_status || {}).map(([k, n]) => h('span', { class: 'tag' }, `${tk('st_', k)} ${n}`)))),
    byMonth('stats-warnings', t('ov_warnings'), st.warnings || []),
    byMonth('stats-findings', t('ov_findings'), st.findings || []));
}

export async function oversightPage(app: HTMLElement): Promise<void> {
  app.append(h('h1', {}, t('ov_title')));
  const out = h('section', { class: 'card', id: 'stats-card' }, h('h2', {}, t('ov_stats')));
  const result = h('div', {}, loading());
  const load = async (from?: string, to?: string) => {
    const q = new URLSearchParams();
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    try {
      clear(result, statsView(await api<Stats>('GET', '/api/v1/stats' + (q.toString() ? '?' + q : ''))));
    } catch (e) {
      clear(result, errorBox(e));
    }
  };
  if (can('GET /api/v1/stats')) {
    out.append(form([field(t('field_start'), h('input', { type: 'date', name: 'from' })), field(t('field_end'), h('input', { type: 'date', name: 'to' }))],
      t('search'), (v) => load(v.from, v.to), { id: 'stats-form', class: 'inline-form' }), result);
    if (can('GET /api/v1/stats/agencies')) out.append(h('p', {}, h('a', { href: '#/agency-stats', id: 'agency-stats-link' }, t('as_link'))));
    void load();
  } else {
    out.append(h('p', { class: 'muted' }, t('ov_no_stats')));
  }
  app.append(out);

  if (can('GET /api/v1/audit/verify')) {
    const res = h('div', { id: 'audit-result' });
    app.append(h('section', { class: 'card', id: 'audit-card' }, h('h2', {}, t('ov_audit')), h('p', { class: 'muted small' }, t('ov_audit_help')),
      action(t('ov_audit_run'), async () => {
        const r = await api<any>('GET', '/api/v1/audit/verify');
        clear(res, h('p', { class: r.ok ? 'ok' : 'error', dataset: { ok: String(!!r.ok) } },
          r.ok ? t('ov_audit_ok', { n: r.checked }) : t('ov_audit_broken', { seq: r.first_broken?.seq, reason: r.first_broken?.reason || '' })),
        r.checkpoint ? h('p', { class: 'muted small' }, t('ov_audit_checkpoint', { seq: r.checkpoint.seq, at: fmtDate(r.checkpoint.at, true) }), ' ',
          h('code', {}, String(r.checkpoint.hash || '').slice(0, 16))) : null);
      }, { id: 'audit-run' }), res));
  }
}
