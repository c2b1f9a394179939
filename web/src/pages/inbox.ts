// The inbox: the work waiting for the signed-in role (overdue first, with deadlines) and the
// in-app messages it chose to receive.
import { api } from '../api';
import { fmtDate, t, tk } from '../i18n';
import { action, clear, errorBox, h, loading } from '../ui';
import { msgText, type Msg } from '../messages';

interface Item {
  kind: string;
  subject: string;
  uscc: string;
  name: string;
  status?: string;
  since: string;
  due_at?: string;
  overdue: boolean;
  note?: string;
}

interface Message {
  id: number;
  event: string;
  title: string;
  body?: string;
  title_message?: Msg;
  body_message?: Msg;
  uscc?: string;
  at: string;
  read_at?: string;
}

// target is where an item's work is done.
function target(it: Item): string {
  if (it.kind === 'list_entry_to_file') return '#/filings';
  return it.subject.startsWith('list-entry/') ? '#/list' : '#/enterprises/' + encodeURIComponent(it.uscc);
}

// deliverAgain is the button that requeues a failed notification delivery (admins).
function deliverAgain(it: Item): HTMLElement | null {
  if (it.kind !== 'delivery_failed') return null;
  const id = it.subject.slice('notification-delivery/'.length);
  const btn = action(t('inbox_deliver_again'), async () => {
    await api('POST', `/api/v1/notification-deliveries/${id}/requeue`, {});
    clear(btn, h('span', { class: 'ok' }, t('inbox_requeued')));
  }, { class: 'deliver-again' });
  return btn;
}

export async function inboxPage(app: HTMLElement): Promise<void> {
  const work = h('div', { id: 'inbox-items' }, loading());
  const messages = h('div', { id: 'inbox-messages' }, loading());
  const prefs = h('div', { id: 'inbox-prefs' }, loading());
  app.append(h('h1', {}, t('inbox_title')), work, h('h2', {}, t('inbox_messages')), messages,
    h('details', {}, h('summary', {}, t('prefs_title')), prefs));
  void showPrefs(prefs);
  try {
    const res = await api<{ items: Item[]; total: number }>('GET', '/api/v1/inbox?limit=200');
    if (!res.items.length) {
      clear(work, h('p', { class: 'empty' }, t('inbox_empty')));
    } else {
      clear(work, h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, [t('inbox_kind'), t('ent_name'), t('inbox_subject'), t('inbox_due'), t('inbox_note')].map((c) => h('th', {}, c)))),
        h('tbody', {}, res.items.map((it) => h('tr', { class: it.overdue ? 'overdue' : '', dataset: { kind: it.kind, subject: it.subject } },
          h('td', {}, tk('inbox_k_', it.kind), it.overdue ? h('span', { class: 'tag bad' }, t('inbox_overdue')) : null),
          h('td', {}, it.uscc ? [h('a', { href: target(it) }, it.name), ' ', h('code', {}, it.uscc)] : null),
          h('td', {}, it.subject, it.status ? [' ', h('span', { class: 'status st-' + it.status }, tk('st_', it.status))] : null),
          h('td', {}, it.due_at ? fmtDate(it.due_at, true) : '', ' ', h('small', {}, t('inbox_since', { since: fmtDate(it.since) }))),
          h('td', {}, it.note || '', ' ', deliverAgain(it)))))));
    }
  } catch (e) {
    clear(work, errorBox(e));
  }
  await showMessages(messages);
}

async function showMessages(box: HTMLElement): Promise<void> {
  try {
    const res = await api<{ messages: Message[]; unread: number }>('GET', '/api/v1/notifications?limit=100');
    if (!res.messages.length) {
      clear(box, h('p', { class: 'empty' }, t('inbox_no_messages')));
      return;
    }
    clear(box,
      res.unread ? action(t('inbox_mark_read'), async () => {
        await api('POST', '/api/v1/notifications/read', {});
        await showMessages(box);
        refreshCounts();
      }, { id: 'mark-read' }) : null,
      h('ul', { class: 'messages' }, res.messages.map((m) => h('li', { class: m.read_at ? 'read' : 'unread', dataset: { event: m.event } },
        h('strong', {}, msgText(m.title_message, m.title)), ' ', h('small', {}, fmtDate(m.at, true), ' · ', tk('ev_', m.event)),
        m.body ? h('p', {}, msgText(m.body_message, m.body)) : null))));
  } catch (e) {
    clear(box, errorBox(e));
  }
}

// refreshCounts puts the inbox's counts on the navigation's link (one cheap request).
export async function refreshCounts(): Promise<void> {
  const el = document.getElementById('inbox-count');
  if (!el) return;
  try {
    const c = await api<{ total: number; overdue: number; unread_messages: number }>('GET', '/api/v1/inbox/counts');
    const n = c.total + c.unread_messages;
    clear(el, n ? String(n) : '');
    el.className = 'count' + (c.overdue ? ' bad' : '');
    el.title = t('inbox_counts', { total: c.total, overdue: c.overdue, unread: c.unread_messages });
  } catch {
    clear(el);
  }
}

interface Prefs {
  email: string;
  inapp_events: string[] | null;
  email_events: string[] | null;
}

// showPrefs is the form where the user chooses which events reach it in the app and by e-mail.
async function showPrefs(box: HTMLElement): Promise<void> {
  try {
    const res = await api<{ preferences: Prefs; events: string[] }>('GET', '/api/v1/notifications/preferences');
    const p = res.preferences;
    const out = h('div', { class: 'action-out' });
    const rows = res.events.map((ev) => {
      const inapp = h('input', { type: 'checkbox', name: 'inapp', value: ev, checked: p.inapp_events === null || p.inapp_events.includes(ev) });
      const mail = h('input', { type: 'checkbox', name: 'email', value: ev, checked: !!p.email_events && p.email_events.includes(ev) });
      return h('tr', {}, h('td', { title: ev }, tk('ev_', ev)), h('td', {}, inapp), h('td', {}, mail));
    });
    const email = h('input', { type: 'email', name: 'address', value: p.email || '', size: 30 });
    const f = h('form', {
      id: 'prefs-form', onsubmit: async (e: Event) => {
        e.preventDefault();
        const picked = (name: string) => Array.from(f.querySelectorAll<HTMLInputElement>(`input[name=${name}]:checked`)).map((i) => i.value);
        clear(out);
        try {
          await api('PUT', '/api/v1/notifications/preferences', { email: email.value.trim(), inapp_events: picked('inapp'), email_events: picked('email') });
          clear(out, h('span', { class: 'ok' }, t('prefs_saved')));
        } catch (err) {
          clear(out, errorBox(err));
        }
      },
    },
      h('table', { class: 'table' }, h('thead', {}, h('tr', {}, [t('prefs_event'), t('prefs_inapp'), t('prefs_email')].map((c) => h('th', {}, c)))), h('tbody', {}, rows)),
      h('label', {}, t('prefs_address'), ' ', email), ' ',
      h('button', { type: 'submit' }, t('prefs_save')), out);
    clear(box, f);
  } catch (e) {
    clear(box, errorBox(e));
  }
}
