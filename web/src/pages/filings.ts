// Filings with the province (二.3): the entries of the caller's agency whose last change
// (admission, renewal, removal) awaits filing or the province's receipt, and those filed,
// each as the list page shows it, with the file and receipt actions the role may take.
import { api } from '../api';
import { t } from '../i18n';
import { clear, errorBox, h, loading } from '../ui';
import { entryCard } from './list';

// awaiting says whether the entry's change is still to file or to receive.
function awaiting(e: any): boolean {
  return !!e.to_file || (e.filings || []).some((f: any) => !f.received_at);
}

export async function filingsPage(app: HTMLElement): Promise<void> {
  const open = h('div', { id: 'filings-open' }, loading());
  const filed = h('div', { id: 'filings-done' }, loading());
  app.append(h('h1', {}, t('fl_title')), h('p', { class: 'muted' }, t('fl_help')),
    h('h2', {}, t('fl_open')), open, h('h2', {}, t('fl_filed')), filed);
  const cfg = await api<any>('GET', '/api/v1/config').catch(() => ({}));
  const load = async () => {
    try {
      const [res, ents] = await Promise.all([
        api<{ entries: any[] }>('GET', '/api/v1/positive-list?limit=1000'),
        api<{ enterprises: any[] }>('GET', '/api/v1/enterprises?limit=1000'),
      ]);
      const names = new Map(ents.enterprises.map((e) => [e.uscc, e.name]));
      const card = (e: any) => entryCard(e, names.get(e.uscc) || e.uscc, cfg, load);
      const list = res.entries || [];
      const waiting = list.filter(awaiting);
      const done = list.filter((e) => e.filed_at && !awaiting(e));
      clear(open, waiting.length ? h('div', {}, waiting.map(card)) : h('p', { class: 'empty' }, t('fl_none_open')));
      clear(filed, done.length ? h('div', {}, done.map(card)) : h('p', { class: 'empty' }, t('fl_none_filed')));
    } catch (e) {
      clear(open, errorBox(e, load));
      clear(filed);
    }
  };
  await load();
}
