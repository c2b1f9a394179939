// Health-check visits across enterprises (二.4): every listed entry's visit status for its
// current validity, the visit due before the validity ends. Filtered by visit status (overdue,
// due, ...), by agency (the one chosen and those under it) and by a latest due date; sorted
// overdue first then by due date, by due date either way, by agency or by name. The filters
// and the order are the page's query, so a view can be bookmarked and shared. Visits are
// recorded on the enterprise's page.
import { api } from '../api';
import { fmtDate, t, tk } from '../i18n';
import { clear, errorBox, field, filterForm, h, loading, select } from '../ui';

interface Agency { id: number; name: string; path: number[] }
interface Row { e: any; name: string; agency?: Agency; rank: number }

const states = ['overdue', 'due', 'pending', 'done'];
const sorts = ['urgent', 'due_asc', 'due_desc', 'agency', 'name'];

// all reads every page of a list route (1000 a page) and returns the items under key.
async function all(path: string, key: string): Promise<any[]> {
  const out: any[] = [];
  for (;;) {
    const r = await api<any>('GET', `${path}${path.includes('?') ? '&' : '?'}limit=1000&offset=${out.length}`);
    const items: any[] = r[key] || [];
    out.push(...items);
    if (!items.length || out.length >= r.total) return out;
  }
}

export async function healthDuePage(app: HTMLElement, _p: string[], q: URLSearchParams): Promise<void> {
  const val = (k: string) => q.get(k) || '';
  const box = h('div', { id: 'hv-due' }, loading());
  const head = h('div', {});
  app.append(h('h1', {}, t('hvd_title')), h('p', { class: 'muted' }, t('hvd_help')), head, box);
  try {
    const [entries, ents, ags] = await Promise.all([
      all('/api/v1/positive-list', 'entries'),
      all('/api/v1/enterprises', 'enterprises'),
      api<{ agencies: Agency[] }>('GET', '/api/v1/agencies'),
    ]);
    const agencies = ags.agencies || [];
    const agencyOf = new Map(agencies.map((a) => [a.id, a]));
    const entOf = new Map(ents.map((e) => [e.uscc, e]));
    clear(head, filterForm('#/health-visits', 'hvd-filters',
      field(t('list_health'), select('health', [['', t('all')], ...states.map((s) => [s, tk('hc_', s)] as [string, string])], val('health'))),
      field(t('as_agency'), select('agency', [['', t('all')],
        ...agencies.map((a) => [String(a.id), '\u00a0'.repeat(2 * (a.path.length - 1)) + a.name] as [string, string])], val('agency'))),
      field(t('hvd_due_by'), h('input', { type: 'date', name: 'due_by', value: val('due_by') })),
      field(t('hvd_sort'), select('sort', sorts.map((s) => [s, t('hvd_sort_' + s)] as [string, string]), val('sort') || 'urgent'))));

    const agency = Number(val('agency'));
    // Due by the end of the day entered, China time.
    const dueBy = val('due_by') ? Date.parse(val('due_by') + 'T00:00:00+08:00') + 86400e3 : Infinity;
    const listed = entries.filter((e) => e.health_check && e.valid_to);
    const rows: Row[] = listed.map((e) => {
      const ent = entOf.get(e.uscc);
      return { e, name: ent?.name || e.uscc, agency: agencyOf.get(ent?.agency_id), rank: states.indexOf(e.health_check) };
    }).filter((r) => (!val('health') || r.e.health_check === val('health'))
      && (!agency || (r.agency?.path || []).includes(agency))
      && Date.parse(r.e.valid_to) < dueBy);
    const due = (r: Row) => Date.parse(r.e.valid_to);
    const agencyRank = (r: Row) => (r.agency ? agencies.indexOf(r.agency) : agencies.length);
    const compare: Record<string, (a: Row, b: Row) => number> = {
      urgent: (a, b) => a.rank - b.rank || due(a) - due(b),
      due_asc: (a, b) => due(a) - due(b),
      due_desc: (a, b) => due(b) - due(a),
      agency: (a, b) => agencyRank(a) - agencyRank(b) || due(a) - due(b),
      name: (a, b) => a.name.localeCompare(b.name, 'zh-CN') || due(a) - due(b),
    };
    rows.sort(compare[val('sort')] || compare.urgent);
    clear(box, !listed.length ? h('p', { class: 'empty' }, t('hvd_none'))
      : !rows.length ? h('p', { class: 'empty' }, t('hvd_none_match'))
        : [h('p', { class: 'muted', id: 'hvd-count' }, t('hvd_count', { n: rows.length, total: listed.length })),
          h('table', { class: 'table' },
            h('thead', {}, h('tr', {}, [t('ent_name'), t('uscc'), t('list_valid'), t('hvd_due'), t('list_health'), t('as_agency')].map((c) => h('th', {}, c)))),
            h('tbody', {}, rows.map(({ e, name, agency: ag }) => h('tr', {
              class: e.health_check === 'overdue' ? 'overdue' : '',
              dataset: { uscc: e.uscc, health: e.health_check, agency: String(ag?.id || ''), due: e.valid_to },
            },
            h('td', {}, h('a', { href: '#/enterprises/' + encodeURIComponent(e.uscc) }, name)),
            h('td', {}, h('code', {}, e.uscc)),
            h('td', {}, fmtDate(e.valid_from), ' – ', fmtDate(e.valid_to)),
            h('td', {}, fmtDate(e.valid_to)),
            h('td', {}, tk('hc_', e.health_check), e.health_check === 'overdue' ? [' ', h('span', { class: 'tag bad' }, t('inbox_overdue'))] : null),
            h('td', {}, ag?.name || '')))))]);
    box.dataset.query = q.toString(); // shown for this query (the browser test waits for it)
  } catch (e) {
    clear(box, errorBox(e));
  }
}
