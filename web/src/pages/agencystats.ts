// Figures per agency and month (GET /api/v1/stats/agencies): for each agency directly under
// the user's (a province sees its cities, a city its counties; its own enterprises under its
// own agency), the warnings opened, findings detected, self-checks requested, site visits and
// waived penalties of each month, with the period's totals per agency.
import { api } from '../api';
import { fmtDate, t, tk } from '../i18n';
import { clear, errorBox, field, form, h, loading } from '../ui';

interface AgencyMonth {
  agency_id: number; agency: string; level: string; month: string;
  warnings: number; findings: number; self_checks: number; site_visits: number; waived: number;
}

const figures: (keyof AgencyMonth)[] = ['warnings', 'findings', 'self_checks', 'site_visits', 'waived'];

function table(ms: AgencyMonth[]): HTMLElement {
  if (!ms.length) return h('p', { class: 'empty' }, t('none'));
  // The period's totals per agency first, then each month.
  const totals = new Map<number, AgencyMonth>();
  for (const m of ms) {
    const s = totals.get(m.agency_id) || { ...m, month: '', warnings: 0, findings: 0, self_checks: 0, site_visits: 0, waived: 0 };
    for (const f of figures) (s as any)[f] += m[f] as number;
    totals.set(m.agency_id, s);
  }
  const row = (m: AgencyMonth, total: boolean) => h('tr', { class: total ? 'total' : '', dataset: { agency: String(m.agency_id), month: m.month } },
    h('td', {}, total ? h('strong', {}, t('ov_total')) : m.month),
    h('td', {}, m.agency, ' ', h('span', { class: 'tag' }, tk('lvl_', m.level))),
    figures.map((f) => h('td', { class: 'num' }, String(m[f]))));
  return h('table', { class: 'table agency-stats' },
    h('thead', {}, h('tr', {}, [t('ov_month'), t('as_agency'), t('as_warnings'), t('as_findings'), t('as_self_checks'), t('as_site_visits'), t('ov_waived')].map((c) => h('th', {}, c)))),
    h('tbody', {}, [...totals.values()].map((m) => row(m, true)), ms.map((m) => row(m, false))));
}

export async function agencyStatsPage(app: HTMLElement): Promise<void> {
  app.append(h('h1', {}, t('as_title')), h('p', { class: 'muted' }, t('as_help')));
  const result = h('div', { id: 'agency-stats' }, loading());
  const load = async (from?: string, to?: string) => {
    const q = new URLSearchParams();
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    try {
      const r = await api<{ from: string; to: string; months: AgencyMonth[] }>('GET', '/api/v1/stats/agencies' + (q.toString() ? '?' + q : ''));
      clear(result, h('p', { class: 'muted' }, fmtDate(r.from), ' – ', fmtDate(r.to)), table(r.months));
    } catch (e) {
      clear(result, errorBox(e));
    }
  };
  app.append(h('section', { class: 'card' },
    form([field(t('field_start'), h('input', { type: 'date', name: 'from' })), field(t('field_end'), h('input', { type: 'date', name: 'to' }))],
      t('search'), (v) => load(v.from, v.to), { id: 'agency-stats-form', class: 'inline-form' }), result));
  await load();
}
