import { api } from '../api';
import { t, tk } from '../i18n';
import { clear, errorBox, field, filterForm, h, loading, pager, select } from '../ui';

const statuses = ['proposed', 'notice', 'listed', 'removed', 'expired', 'rejected', 'none'];
const pageSize = 50;

export async function enterprisesPage(app: HTMLElement, _p: string[], q: URLSearchParams): Promise<void> {
  const val = (k: string) => q.get(k) || '';
  const filters = filterForm('#/enterprises', 'ent-filters',
    field(t('ent_q'), h('input', { name: 'q', value: val('q'), type: 'search' })),
    field(t('ent_status'), select('list_status', [['', t('all')], ...statuses.map((s) => [s, tk('st_', s)] as [string, string])], val('list_status'))),
    field(t('ent_industry'), h('input', { name: 'industry', value: val('industry'), size: 8, placeholder: 'C26' })),
    field(t('ent_zone'), h('input', { name: 'zone', value: val('zone'), size: 10 })),
    field(t('ent_open'), select('open_warnings', [['', t('all')], ['true', t('ent_open_yes')], ['false', t('ent_open_no')]], val('open_warnings'))));
  const results = h('div', { id: 'ent-results' }, loading());
  app.append(h('h1', {}, t('ent_title')), filters, results);

  const offset = Number(q.get('offset') || 0);
  const params = new URLSearchParams(q);
  params.set('limit', String(pageSize));
  params.set('offset', String(offset));
  try {
    const res = await api<{ enterprises: any[]; total: number }>('GET', '/api/v1/ui/enterprises?' + params.toString());
    if (!res.enterprises.length) {
      clear(results, h('p', { class: 'empty' }, t('ent_empty')));
      return;
    }
    clear(results,
      h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, [t('ent_name'), t('uscc'), t('ent_industry'), t('ent_zone'), t('ent_status'), t('ent_open')].map((c) => h('th', {}, c)))),
        h('tbody', {}, res.enterprises.map((e) => h('tr', { dataset: { uscc: e.uscc } },
          h('td', {}, h('a', { href: '#/enterprises/' + encodeURIComponent(e.uscc), class: 'ent-link' }, e.name),
            e.special_supervision ? h('span', { class: 'tag warn' }, t('ent_special')) : null,
            e.barred ? h('span', { class: 'tag bad' }, t('ent_barred')) : null),
          h('td', {}, h('code', {}, e.uscc)),
          h('td', {}, e.industry),
          h('td', {}, e.zone || ''),
          h('td', {}, h('span', { class: 'status st-' + (e.list_status || 'none') }, tk('st_', e.list_status || 'none'))),
          h('td', {}, e.open_warnings ? h('span', { class: 'tag bad' }, t('warnings_n', { n: e.open_warnings })) : t('none')))))),
      pager('#/enterprises', q, offset, pageSize, res.enterprises.length, res.total));
  } catch (e) {
    clear(results, errorBox(e));
  }
}
