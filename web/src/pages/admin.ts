// Administration of people and agencies: the users of the administrator's agency and those
// under it (create, role, agency, password reset, disable, API tokens and their revocation)
// and the agency tree (create, rename); and the monitoring frames the HJ 212 receiver keeps in
// quarantine, released into a point's series once it is registered. Every change is audited
// by the API.
import { api, can, currentUser } from '../api';
import { fmtDate, t, tk } from '../i18n';
import { action, clear, errorBox, field, form, h, loading, select } from '../ui';

const roles = ['admin', 'analyst', 'inspector', 'approver', 'enterprise'];

interface Agency { id: number; name: string; level: string; parent_id?: number; path: number[]; version: number }
interface User { id: number; name: string; display_name: string; role: string; agency_id: number; uscc?: string; disabled: boolean; has_password: boolean; version: number }

export async function adminPage(app: HTMLElement): Promise<void> {
  const users = h('section', { class: 'card', id: 'users' }, loading());
  const agencies = h('section', { class: 'card', id: 'agencies' }, loading());
  app.append(h('h1', {}, t('admin_title')), users, agencies);
  if (can('GET /api/v1/monitoring/quarantine')) {
    const q = h('section', { class: 'card', id: 'quarantine' }, loading());
    app.append(q);
    void quarantineSection(q);
  }
  const load = async () => {
    let as: Agency[] = [];
    let us: User[] = [];
    try {
      [as, us] = await Promise.all([
        api<{ agencies: Agency[] }>('GET', '/api/v1/agencies').then((r) => r.agencies),
        api<{ users: User[] }>('GET', '/api/v1/users').then((r) => r.users),
      ]);
    } catch (e) {
      clear(users, errorBox(e, load));
      return;
    }
    const name = new Map(as.map((a) => [a.id, a.name]));
    const agencyOptions = as.map((a) => [String(a.id), '\u00a0'.repeat(2 * (a.path.length - 1)) + a.name] as [string, string]);
    clear(users, h('h2', {}, t('users_title')),
      h('table', { class: 'table', id: 'user-table' },
        h('thead', {}, h('tr', {}, [t('user_name'), t('user_role'), t('user_agency'), t('user_state'), ''].map((c) => h('th', {}, c)))),
        h('tbody', {}, us.map((u) => userRow(u, name, agencyOptions, load)))),
      h('h3', {}, t('user_new')),
      form([
        field(t('user_name'), h('input', { name: 'name', id: 'new-user-name', required: true, size: 16 })),
        field(t('user_display'), h('input', { name: 'display_name', size: 16 })),
        field(t('user_role'), select('role', roles.map((r) => [r, tk('role_', r)] as [string, string]), 'inspector', { id: 'new-user-role' })),
        field(t('user_agency'), select('agency_id', agencyOptions, String(currentUser()?.agency_id || ''), { id: 'new-user-agency' })),
        field(t('user_uscc'), h('input', { name: 'uscc', size: 20, placeholder: t('user_uscc_help') })),
        field(t('password'), h('input', { type: 'password', name: 'password', id: 'new-user-password', autocomplete: 'new-password', size: 16 })),
      ], t('create'), async (v) => {
        await api('POST', '/api/v1/users', { name: v.name.trim(), display_name: v.display_name, role: v.role,
          agency_id: v.role === 'enterprise' ? 0 : Number(v.agency_id), uscc: v.role === 'enterprise' ? v.uscc.trim() : '', password: v.password });
        await load();
      }, { id: 'user-form' }));
    clear(agencies, h('h2', {}, t('agencies_title')),
      h('ul', { class: 'tree', id: 'agency-tree' }, as.map((a) => h('li', { style: `margin-left:${(a.path.length - 1) * 1.5}em` },
        h('strong', {}, a.name), ' ', h('span', { class: 'muted' }, tk('level_', a.level))))),
      h('h3', {}, t('agency_new')),
      form([
        field(t('agency_name'), h('input', { name: 'name', required: true, size: 20, id: 'new-agency-name' })),
        field(t('agency_parent'), select('parent_id', agencyOptions.filter(([id]) => as.find((a) => String(a.id) === id)?.level !== 'county'), '', { id: 'new-agency-parent' })),
      ], t('create'), async (v) => {
        await api('POST', '/api/v1/agencies', { name: v.name.trim(), parent_id: Number(v.parent_id) });
        await load();
      }, { id: 'agency-form' }));
  };
  await load();
}

function userRow(u: User, agencyName: Map<number, string>, agencyOptions: [string, string][], reload: () => Promise<void>): HTMLElement {
  const tokens = h('div', { class: 'tokens' });
  const self = u.name === currentUser()?.name;
  const showTokens = async () => {
    const r = await api<{ tokens: any[] }>('GET', `/api/v1/users/${u.id}/tokens`);
    clear(tokens, !r.tokens.length ? h('p', { class: 'empty' }, t('tokens_none')) : h('ul', {}, r.tokens.map((k) => h('li', {},
      k.name, ' — ', t('token_expires', { at: fmtDate(k.expires_at) }), ' ',
      k.revoked_at ? h('span', { class: 'muted' }, t('token_revoked')) : action(t('token_revoke'), async () => {
        await api('POST', `/api/v1/tokens/${k.id}/revoke`);
        await showTokens();
      })))));
  };
  return h('tr', { 'data-user': u.name },
    h('td', {}, h('strong', {}, u.name), u.display_name ? ' ' + u.display_name : ''),
    h('td', {}, self ? tk('role_', u.role) : select('role', roles.map((r) => [r, tk('role_', r)] as [string, string]), u.role, {
      class: 'user-role',
      onchange: async (e: Event) => {
        const role = (e.target as HTMLSelectElement).value;
        try {
          await api('PATCH', `/api/v1/users/${u.id}`, { version: u.version, role });
        } catch (err) {
          tokens.replaceChildren(errorBox(err));
          return;
        }
        await reload();
      },
    }), u.uscc ? h('div', {}, h('code', {}, u.uscc)) : ''),
    h('td', {}, agencyName.get(u.agency_id) || String(u.agency_id), agencyOptions.length ? '' : ''),
    h('td', {}, u.disabled ? t('user_disabled') : t('user_enabled')),
    h('td', {},
      form([h('input', { type: 'password', name: 'password', class: 'reset-password', autocomplete: 'new-password', size: 12, required: true, placeholder: t('password_new') })],
        t('password_reset'), async (v, f) => {
          await api('POST', `/api/v1/users/${u.id}/password`, { password: v.password });
          f.reset();
          f.append(h('span', { class: 'ok' }, t('done')));
        }, { class: 'inline-form reset-form' }),
      self ? '' : action(u.disabled ? t('user_enable') : t('user_disable'), async () => {
        await api('PATCH', `/api/v1/users/${u.id}`, { version: u.version, disabled: !u.disabled });
        await reload();
      }, { class: 'toggle-user' }),
      action(t('tokens_show'), showTokens), tokens));
}

interface Quarantined { mn: string; reason: string; frames: number; first_received_at: string; last_received_at: string; last_remote_addr: string; uscc?: string }

// quarantineSection lists the MNs whose frames are kept in quarantine, with a release button
// for those whose point is registered now.
async function quarantineSection(el: HTMLElement): Promise<void> {
  let qs: Quarantined[];
  try {
    qs = (await api<{ quarantine: Quarantined[] }>('GET', '/api/v1/monitoring/quarantine')).quarantine;
  } catch (e) {
    clear(el, h('h2', {}, t('quarantine_title')), errorBox(e, () => quarantineSection(el)));
    return;
  }
  const release = can('POST /api/v1/monitoring/points/{mn}/quarantine/release');
  clear(el, h('h2', {}, t('quarantine_title')), h('p', { class: 'muted small' }, t('quarantine_help')),
    !qs.length ? h('p', { class: 'empty' }, t('quarantine_none')) : h('table', { class: 'table', id: 'quarantine-table' },
      h('thead', {}, h('tr', {}, ['MN', t('quarantine_reason'), t('quarantine_frames'), t('quarantine_last'), t('quarantine_from'), t('quarantine_point'), ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, qs.map((q) => h('tr', { 'data-mn': q.mn },
        h('td', {}, h('code', {}, q.mn)),
        h('td', {}, tk('qreason_', q.reason)),
        h('td', {}, String(q.frames)),
        h('td', {}, fmtDate(q.last_received_at, true)),
        h('td', {}, h('code', {}, q.last_remote_addr)),
        h('td', {}, q.uscc ? h('a', { href: `#/enterprises/${encodeURIComponent(q.uscc)}` }, q.uscc) : h('span', { class: 'muted' }, t('quarantine_unregistered'))),
        h('td', {}, release && q.uscc ? action(t('quarantine_release'), async () => {
          const r = await api<{ released: number; kept: number }>('POST', `/api/v1/monitoring/points/${encodeURIComponent(q.mn)}/quarantine/release`);
          await quarantineSection(el);
          el.append(h('p', { class: 'ok' }, t('quarantine_released', { released: r.released, kept: r.kept })));
        }, { class: 'release-quarantine' }) : ''))))));
}
