// Intake of the other site-visit triggers (三.7): complaints, media reports and referrals
// from above, recorded with their source. A report on an enterprise whose matter is still
// open joins it (a duplicate is not opened twice); otherwise a matter opens with a warning on
// the enterprise's inspection, from which a site visit may be requested for approval.
import { api, can } from '../api';
import { fmtDate, t, tk } from '../i18n';
import { clear, errorBox, field, form, h, loading, select } from '../ui';

const sources = ['complaint', 'media_report', 'referral'];
// The inspection stages from which a site visit may be requested.
const visitable = ['open', 'self_check_requested', 'report_submitted'];

interface Report { id: number; source: string; source_ref: string; reporter?: string; summary: string; received_at: string; recorded_by: string }
interface Matter {
  id: number; uscc: string; trigger: string; summary: string; inspection_id: number; opened_by: string; opened_at: string;
  inspection_status?: string; reports?: Report[];
}

function matterView(m: Matter, refresh: () => Promise<void>): HTMLElement {
  const st = m.inspection_status || '';
  return h('article', { class: 'matter', dataset: { id: String(m.id), status: st } },
    h('h3', {}, t('in_matter', { id: m.id }), ' ', h('span', { class: 'tag' }, tk('tr_', m.trigger)), ' ',
      h('a', { href: '#/enterprises/' + encodeURIComponent(m.uscc) }, m.uscc), ' ',
      st ? h('span', { class: 'status ins-' + st }, tk('ins_', st)) : null, ' ',
      h('span', { class: 'muted small' }, fmtDate(m.opened_at, true), ' · ', m.opened_by)),
    h('p', {}, m.summary),
    h('ul', { class: 'reports' }, (m.reports || []).map((r) => h('li', { dataset: { source: r.source } },
      h('strong', {}, tk('tr_', r.source)), ' ', r.source_ref, r.reporter ? ` (${r.reporter})` : '', ' — ', r.summary, ' ',
      h('span', { class: 'muted small' }, t('in_received', { at: fmtDate(r.received_at, true) }))))),
    visitable.includes(st) && can('POST /api/v1/intake/matters/{id}/site-visit')
      ? form([field(t('reason'), h('input', { name: 'reason', required: true, size: 40 }))], t('act_site_visit'), async (v) => {
        await api('POST', `/api/v1/intake/matters/${m.id}/site-visit`, { reason: v.reason });
        await refresh();
      }, { class: 'inline-form act-matter-visit' })
      : null);
}

export async function intakePage(app: HTMLElement): Promise<void> {
  app.append(h('h1', {}, t('in_title')), h('p', { class: 'muted' }, t('in_help')));
  const list = h('div', { id: 'matters' }, loading());
  const open = select('open', [['true', t('in_open')], ['', t('all')]], 'true', { id: 'matters-open', onchange: () => void reload() });
  const reload = async () => {
    try {
      const r = await api<{ matters: Matter[]; total: number }>('GET', '/api/v1/intake/matters?limit=200' + (open.value ? '&open=true' : ''));
      clear(list, r.matters.length ? r.matters.map((m) => matterView(m, reload)) : h('p', { class: 'empty' }, t('in_none')));
    } catch (e) {
      clear(list, errorBox(e));
    }
  };
  if (can('POST /api/v1/intake')) {
    const out = h('div', { class: 'in-out' });
    // Now, as the value of a datetime-local input (the browser's local time).
    const now = new Date(Date.now() - new Date().getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
    const ents = await api<{ enterprises: { uscc: string; name: string }[] }>('GET', '/api/v1/enterprises?limit=1000').catch(() => ({ enterprises: [] }));
    app.append(h('section', { class: 'card', id: 'intake-new' }, h('h2', {}, t('in_new')),
      h('datalist', { id: 'intake-usccs' }, ents.enterprises.map((e) => h('option', { value: e.uscc }, e.name))),
      form([
        field(t('in_source'), select('source', sources.map((s) => [s, tk('tr_', s)] as [string, string]))),
        field(t('in_source_ref'), h('input', { name: 'source_ref', required: true, placeholder: t('in_source_ref_hint') })),
        field(t('in_reporter'), h('input', { name: 'reporter' })),
        field(t('uscc'), h('input', { name: 'uscc', required: true, list: 'intake-usccs', size: 20 })),
        field(t('in_received_at'), h('input', { type: 'datetime-local', name: 'received_at', value: now, required: true })),
        field(t('in_summary'), h('textarea', { name: 'summary', rows: 2, required: true })),
        field(t('in_join'), h('input', { type: 'number', name: 'matter_id', min: 1, step: 1, placeholder: t('in_join_hint') })),
      ], t('in_record'), async (v, f) => {
        const body: Record<string, unknown> = {
          source: v.source, source_ref: v.source_ref, reporter: v.reporter, uscc: v.uscc.trim(), summary: v.summary,
          received_at: new Date(v.received_at).toISOString(),
        };
        if (v.matter_id) body.matter_id = Number(v.matter_id);
        const r = await api<{ outcome: string; matter: Matter }>('POST', '/api/v1/intake', body);
        clear(out, h('p', { class: 'ok', dataset: { outcome: r.outcome, matter: String(r.matter.id) } },
          t(r.outcome === 'joined' ? 'in_joined' : 'in_opened', { id: r.matter.id })));
        f.reset();
        await reload();
      }, { id: 'intake-form' }), out));
  }
  app.append(h('section', { class: 'card' }, h('h2', {}, t('in_matters')), field(t('ent_status'), open), list));
  await reload();
}
