// The published positive list, the entries on notice and the disclosed dispositions: public
// routes, no sign-in.
import { api } from '../api';
import { fmtDate, getLang, t } from '../i18n';
import { clear, errorBox, h, loading } from '../ui';

export async function publicPage(app: HTMLElement): Promise<void> {
  const listEl = h('div', { id: 'public-list' }, loading());
  const noticeEl = h('div', { id: 'public-notices' }, loading());
  const discEl = h('div', { id: 'public-disclosures' }, loading());
  app.append(h('h1', {}, t('public_title')),
    h('p', {}, h('a', { href: '/public/positive-list?format=csv&lang=' + getLang(), class: 'button secondary', download: 'positive-list.csv' }, t('public_csv'))),
    listEl, h('h2', {}, t('notices_title')), noticeEl, h('h2', {}, t('disclosures')), discEl);
  const table = (rows: any[], cols: [string, (r: any) => any][]) => h('table', { class: 'table' },
    h('thead', {}, h('tr', {}, cols.map(([c]) => h('th', {}, c)))), h('tbody', {}, rows.map((r) => h('tr', {}, cols.map(([, f]) => h('td', {}, f(r)))))));
  // The three requests go out together.
  const [list, notices, disclosures] = [api<any>('GET', '/public/positive-list?limit=1000'), api<any>('GET', '/public/notices'), api<any>('GET', '/public/disclosures')];
  for (const p of [list, notices, disclosures]) p.catch(() => {}); // each is reported where it is shown
  try {
    const res = await list;
    const rows: any[] = res.enterprises || res.entries || res.list || [];
    clear(listEl, !rows.length ? h('p', { class: 'empty' }, t('public_empty')) : table(rows, [
      [t('ent_name'), (r) => r.name], [t('ent_address'), (r) => r.address], [t('uscc'), (r) => h('code', {}, r.uscc)],
      [t('ent_industry'), (r) => r.industry], [t('ent_permit'), (r) => r.permit_no],
      [t('list_valid'), (r) => [fmtDate(r.valid_from), ' – ', fmtDate(r.valid_to)]], [t('ent_complaint'), (r) => r.complaint_channel]]));
  } catch (e) {
    clear(listEl, errorBox(e));
  }
  try {
    const n = await notices;
    const ns: any[] = Array.isArray(n) ? n : n.notices || [];
    clear(noticeEl, !ns.length ? h('p', { class: 'empty' }, t('no_notices')) : table(ns, [
      [t('ent_name'), (r) => r.name], [t('uscc'), (r) => h('code', {}, r.uscc)], [t('ent_industry'), (r) => r.industry],
      [t('list_notice'), (r) => [fmtDate(r.notice_start), ' – ', fmtDate(r.notice_end)]], [t('ent_complaint'), (r) => r.complaint_channel]]));
  } catch (e) {
    clear(noticeEl, errorBox(e));
  }
  try {
    const d = await disclosures;
    const ds: any[] = d.disclosures || [];
    clear(discEl, !ds.length ? h('p', { class: 'empty' }, t('no_disclosures')) : table(ds, [
      [t('ent_name'), (r) => r.name], [t('uscc'), (r) => h('code', {}, r.uscc)], ['', (r) => r.rule], ['', (r) => r.penalty]]));
  } catch (e) {
    clear(discEl, errorBox(e));
  }
}
