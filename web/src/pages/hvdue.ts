// Health-check visits across enterprises (二.4): every listed entry's visit status for its
// current validity, the visit due before the validity ends; those without a visit first,
// by due date, overdue marked. Visits are recorded on the enterprise's page.
import { api } from '../api';
import { fmtDate, t, tk } from '../i18n';
import { clear, errorBox, h, loading } from '../ui';

const order: Record<string, number> = { overdue: 0, due: 1, pending: 2, done: 3 };

export async function healthDuePage(app: HTMLElement): Promise<void> {
  const box = h('div', { id: 'hv-due' }, loading());
  app.append(h('h1', {}, t('hvd_title')), h('p', { class: 'muted' }, t('hvd_help')), box);
  try {
    const [res, ents] = await Promise.all([
      api<{ entries: any[] }>('GET', '/api/v1/positive-list?limit=1000'),
      api<{ enterprises: any[] }>('GET', '/api/v1/enterprises?limit=1000'),
    ]);
    const names = new Map(ents.enterprises.map((e) => [e.uscc, e.name]));
    const rows = (res.entries || []).filter((e) => e.health_check && e.valid_to)
      .sort((a, b) => (order[a.health_check] ?? 9) - (order[b.health_check] ?? 9) || a.valid_to.localeCompare(b.valid_to));
    clear(box, !rows.length ? h('p', { class: 'empty' }, t('hvd_none'))
      : h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, [t('ent_name'), t('uscc'), t('list_valid'), t('hvd_due'), t('list_health')].map((c) => h('th', {}, c)))),
        h('tbody', {}, rows.map((e) => h('tr', { class: e.health_check === 'overdue' ? 'overdue' : '', dataset: { uscc: e.uscc, health: e.health_check } },
          h('td', {}, h('a', { href: '#/enterprises/' + encodeURIComponent(e.uscc) }, names.get(e.uscc) || e.uscc)),
          h('td', {}, h('code', {}, e.uscc)),
          h('td', {}, fmtDate(e.valid_from), ' – ', fmtDate(e.valid_to)),
          h('td', {}, fmtDate(e.valid_to)),
          h('td', {}, tk('hc_', e.health_check), e.health_check === 'overdue' ? [' ', h('span', { class: 'tag bad' }, t('inbox_overdue'))] : null))))));
  } catch (e) {
    clear(box, errorBox(e));
  }
}
