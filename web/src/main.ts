// Offsite's web interface: a hash router over the pages; everything comes from the API.
import './style.css';
import { ApiError, can, currentUser, restore, signOut } from './api';
import { getLang, setLang, t, tk } from './i18n';
import { loadConfig } from './map';
import { clear, errorBox, h } from './ui';
import { signinPage } from './pages/signin';
import { enterprisesPage } from './pages/enterprises';
import { enterprisePage } from './pages/enterprise';
import { surveyNewPage, surveyPage } from './pages/survey';
import { listPage } from './pages/list';
import { publicPage } from './pages/public';
import { adminPage } from './pages/admin';
import { inboxPage, refreshCounts } from './pages/inbox';
import { oversightPage } from './pages/oversight';
import { drawsPage } from './pages/draws';
import { managePage } from './pages/manage';
import { intakePage } from './pages/intake';
import { agencyStatsPage } from './pages/agencystats';
import { filingsPage } from './pages/filings';
import { healthDuePage } from './pages/hvdue';
import { capturesPage } from './pages/captures';

type Page = (app: HTMLElement, params: string[], query: URLSearchParams) => Promise<void | (() => void)>;

const routes: [RegExp, Page, boolean][] = [
  [/^\/signin$/, signinPage, false],
  [/^\/public$/, publicPage, false],
  [/^\/enterprises$/, enterprisesPage, true],
  [/^\/enterprises\/([^/]+)$/, enterprisePage, true],
  [/^\/surveys\/new$/, surveyNewPage, true],
  [/^\/surveys\/(\d+)$/, surveyPage, true],
  [/^\/list$/, listPage, true],
  [/^\/admin$/, adminPage, true],
  [/^\/inbox$/, inboxPage, true],
  [/^\/oversight$/, oversightPage, true],
  [/^\/draws$/, drawsPage, true],
  [/^\/manage$/, managePage, true],
  [/^\/intake$/, intakePage, true],
  [/^\/agency-stats$/, agencyStatsPage, true],
  [/^\/filings$/, filingsPage, true],
  [/^\/health-visits$/, healthDuePage, true],
  [/^\/captures$/, capturesPage, true],
];

let leave: (() => void) | void;

function header(): void {
  const top = document.getElementById('top')!;
  const me = currentUser();
  const link = (href: string, label: string) => h('a', { href, class: location.hash.startsWith(href) ? 'active' : '' }, label);
  clear(top, h('nav', {},
    h('a', { href: me ? '#/enterprises' : '#/signin', class: 'brand' }, t('app')),
    me ? h('a', { href: '#/inbox', id: 'nav-inbox', class: location.hash.startsWith('#/inbox') ? 'active' : '' }, t('nav_inbox'), ' ', h('span', { id: 'inbox-count', class: 'count' })) : null,
    me && me.role !== 'enterprise' ? [link('#/enterprises', t('nav_enterprises')), link('#/surveys/new', t('nav_survey')), link('#/list', t('nav_list'))] : null,
    me && me.role === 'admin' ? link('#/admin', t('nav_admin')) : null,
    me && me.role === 'enterprise' && me.uscc ? link('#/enterprises/' + me.uscc, t('nav_enterprises')) : null,
    me && can('GET /api/v1/intake/matters') ? link('#/intake', t('nav_intake')) : null,
    me && (can('POST /api/v1/positive-list/{id}/filing') || can('POST /api/v1/positive-list/{id}/filing/receipt')) ? link('#/filings', t('nav_filings')) : null,
    me && can('POST /api/v1/enterprises/{uscc}/health-visits') ? link('#/health-visits', t('nav_health_visits')) : null,
    me && can('GET /api/v1/captures') ? link('#/captures', t('nav_captures')) : null,
    me && (can('POST /api/v1/enterprises') || can('POST /api/v1/captures')) ? link('#/manage', t('nav_manage')) : null,
    me && can('GET /api/v1/draws') && me.role !== 'enterprise' ? link('#/draws', t('nav_draws')) : null,
    me && (can('GET /api/v1/stats') || can('GET /api/v1/audit/verify')) ? link('#/oversight', t('nav_oversight')) : null,
    link('#/public', t('nav_public')),
    h('span', { class: 'spacer' }),
    me ? h('span', { class: 'who', id: 'who' }, t('signed_in_as', { name: me.name, role: tk('role_', me.role) })) : null,
    h('button', { type: 'button', class: 'link', id: 'lang', onclick: () => { setLang(getLang() === 'zh' ? 'en' : 'zh'); render(); } }, t('lang_switch')),
    me ? h('button', { type: 'button', class: 'link', id: 'signout', onclick: () => signOut() }, t('sign_out')) : null));
  if (me) void refreshCounts();
}

async function render(): Promise<void> {
  const app = document.getElementById('app')!;
  if (leave) leave();
  leave = undefined;
  const [path, qs] = (location.hash.slice(1) || '/').split('?');
  const query = new URLSearchParams(qs || '');
  if (!currentUser()) {
    try {
      await restore();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) {
        header();
        clear(app, errorBox(e, render));
        return;
      }
    }
  }
  const me = currentUser();
  for (const [re, page, needsUser] of routes) {
    const m = path.match(re);
    if (!m) continue;
    if (needsUser && !me) {
      location.hash = '#/signin?next=' + encodeURIComponent(location.hash.slice(1));
      return;
    }
    header();
    clear(app);
    try {
      leave = await page(app, m.slice(1).map(decodeURIComponent), query);
    } catch (e) {
      clear(app, errorBox(e, render));
    }
    return;
  }
  location.hash = me ? (me.role === 'enterprise' && me.uscc ? '#/enterprises/' + me.uscc : '#/enterprises') : '#/signin';
}

setLang(getLang());
window.addEventListener('hashchange', render);
loadConfig().then(render);
