// The positive list: entries with their lifecycle (proposed → notice → listed → expired or
// removed), the actions the role may take at each stage, proposals with the admission
// evaluation, and the entries on public notice.
import { api, can } from '../api';
import { fmtDate, t, tk } from '../i18n';
import { action, clear, errorBox, field, form, h, loading, select } from '../ui';
import { msgText } from '../messages';

const statuses = ['proposed', 'notice', 'listed', 'removed', 'expired', 'rejected'];
const removal = ['no_longer_qualifies', 'malicious_discharge', 'falsified_records', 'evading_supervision', 'strict_disposition', 'enterprise_requested'];

export async function listPage(app: HTMLElement, _p: string[], q: URLSearchParams): Promise<void> {
  const status = q.get('status') || '';
  const entries = h('div', { id: 'list-entries' }, loading());
  const notices = h('section', { class: 'card', id: 'notices' }, h('h2', {}, t('notices_title')), loading());
  app.append(h('h1', {}, t('list_title')), h('p', { class: 'muted' }, t('lifecycle')),
    h('form', { class: 'filters', onsubmit: (e: Event) => e.preventDefault() },
      field(t('ent_status'), select('status', [['', t('all')], ...statuses.map((s) => [s, tk('st_', s)] as [string, string])], status,
        { onchange: (e: Event) => (location.hash = '#/list?status=' + (e.target as HTMLSelectElement).value) }))),
    can('POST /api/v1/positive-list') ? await proposeForm(() => load()) : '',
    entries, notices);
  let cfg: any = {};
  const load = async () => {
    try {
      const [res, ents] = await Promise.all([
        api<{ entries: any[] }>('GET', '/api/v1/positive-list?limit=200' + (status ? '&status=' + status : '')),
        api<{ enterprises: any[] }>('GET', '/api/v1/enterprises?limit=1000'),
      ]);
      const names = new Map(ents.enterprises.map((e) => [e.uscc, e.name]));
      const list = res.entries || [];
      clear(entries, !list.length ? h('p', { class: 'empty' }, t('list_empty')) : h('div', {}, list.map((e) => entryCard(e, names.get(e.uscc) || e.uscc, cfg, load))));
    } catch (e) {
      clear(entries, errorBox(e, load));
    }
    try {
      const n = await api<any>('GET', '/public/notices');
      const ns: any[] = Array.isArray(n) ? n : n.notices || [];
      clear(notices, h('h2', {}, t('notices_title')), !ns.length ? h('p', { class: 'empty' }, t('no_notices'))
        : h('table', { class: 'table' }, h('tbody', {}, ns.map((x) => h('tr', {}, h('td', {}, x.name), h('td', {}, h('code', {}, x.uscc)),
          h('td', {}, fmtDate(x.notice_start), ' – ', fmtDate(x.notice_end)), h('td', {}, x.complaint_channel))))));
    } catch (e) {
      clear(notices, h('h2', {}, t('notices_title')), errorBox(e));
    }
  };
  cfg = await api<any>('GET', '/api/v1/config').catch(() => ({}));
  await load();
}

// entryCard is one entry with the actions the role may take on it; the filings page shows
// the same cards.
export function entryCard(e: any, name: string, cfg: any, refresh: () => void): HTMLElement {
  const base = `/api/v1/positive-list/${e.id}`;
  const post = (p: string, body: any) => api('POST', base + p, { version: e.version, ...body }).then(refresh);
  const may = (p: string) => can('POST /api/v1/positive-list/{id}' + p);
  const acts: HTMLElement[] = [];
  const st = e.status;
  // Dates in China Standard Time (UTC+8), as the API reads a date: today's date starts the
  // notice now; the UTC date would be yesterday's before 08:00 and be refused as back-dated.
  const day = (offset: number) => new Date(Date.now() + 8 * 3600e3 + offset * 86400e3).toISOString().slice(0, 10);
  if (st === 'proposed' && may('/notice'))
    acts.push(form([field(t('notice_start'), h('input', { type: 'date', name: 'notice_start', value: day(0), required: true })),
      field(t('notice_end'), h('input', { type: 'date', name: 'notice_end', value: day((cfg.notice_min_days || 7) + 1), required: true }))],
    t('act_notice'), (v) => post('/notice', v), { class: 'inline-form act-notice' }));
  if (st === 'notice' && may('/objections'))
    acts.push(form([field(t('objection_text'), h('input', { name: 'text', required: true })), field(t('raised_by'), h('input', { name: 'raised_by' }))],
      t('act_object'), (v) => post('/objections', v), { class: 'inline-form act-object' }));
  if (st === 'notice' && may('/list'))
    acts.push(action(t('act_list'), () => post('/list', {}), { class: 'act-list' }));
  const noticeFields = () => [field(t('notice_start'), h('input', { type: 'date', name: 'notice_start', value: day(0), required: true })),
    field(t('notice_end'), h('input', { type: 'date', name: 'notice_end', value: day((cfg.notice_min_days || 7) + 1), required: true }))];
  const adj = e.adjustment;
  if (adj)
    acts.push(h('p', { class: 'adjustment' }, t('adjustment_on_notice', { kind: tk('change_', adj.kind), end: fmtDate(adj.notice_end) })));
  if (adj && may('/objections'))
    acts.push(form([field(t('objection_text'), h('input', { name: 'text', required: true })), field(t('raised_by'), h('input', { name: 'raised_by' }))],
      t('act_object'), (v) => post('/objections', v), { class: 'inline-form act-object' }));
  if (adj && may('/adjustment/apply'))
    acts.push(action(t('act_apply'), () => post('/adjustment/apply', {}), { class: 'act-apply' }));
  // A renewal re-evaluates the facts the entry was admitted on, then goes on notice (二.3).
  if (['listed', 'expired'].includes(st) && !adj && may('/renew'))
    acts.push(form(noticeFields(), t('act_renew'), (v) => post('/renew', { ...v, facts: e.admission?.facts || {} }), { class: 'inline-form act-renew' }));
  if (['listed'].includes(st) && !adj && may('/remove'))
    acts.push(form([field(t('removal_category'), select('category', removal.map((c) => [c, tk('rc_', c)] as [string, string]))), field(t('reason'), h('input', { name: 'reason', required: true })),
      ...noticeFields()], t('act_remove'), (v) => post('/remove', v), { class: 'inline-form act-remove' }));
  if (e.to_file && !(e.filings || []).some((f: any) => !f.received_at) && may('/filing'))
    acts.push(action(t('act_file', { change: tk('change_', e.to_file) }), () => post('/filing', {}), { class: 'act-file' }));
  if ((e.filings || []).some((f: any) => !f.received_at) && may('/filing/receipt'))
    acts.push(form([field(t('receipt'), h('input', { name: 'receipt', required: true }))], t('act_receipt'), (v) => post('/filing/receipt', v), { class: 'inline-form act-receipt' }));
  if (e.filed_at) acts.push(h('p', { class: 'muted' }, t('filed_at', { at: fmtDate(e.filed_at) })));
  return h('article', { class: 'entry card', dataset: { id: e.id, status: st } },
    h('h3', {}, h('a', { href: '#/enterprises/' + encodeURIComponent(e.uscc) }, name), ' ', h('span', { class: 'status st-' + st }, tk('st_', st))),
    h('ol', { class: 'lifecycle' }, ['proposed', 'notice', 'listed', st === 'removed' || st === 'rejected' ? st : 'expired'].map((s) =>
      h('li', { class: s === st ? 'current' : '' }, tk('st_', s)))),
    h('dl', { class: 'facts' },
      h('dt', {}, t('uscc')), h('dd', {}, h('code', {}, e.uscc)),
      e.admission?.path ? [h('dt', {}, t('list_evaluate')), h('dd', {}, t('list_admitted', { path: tk('path_', e.admission.path) }))] : null,
      e.notice_start ? [h('dt', {}, t('list_notice')), h('dd', {}, fmtDate(e.notice_start), ' – ', fmtDate(e.notice_end))] : null,
      e.valid_from ? [h('dt', {}, t('list_valid')), h('dd', {}, fmtDate(e.valid_from), ' – ', fmtDate(e.valid_to))] : null,
      e.health_check ? [h('dt', {}, t('list_health')), h('dd', {}, tk('hc_', e.health_check))] : null,
      e.removal_category ? [h('dt', {}, t('removal_category')), h('dd', {}, tk('rc_', e.removal_category), ': ', e.removal_reason)] : null),
    e.objections?.length ? h('div', {}, h('h4', {}, t('list_objections')), h('ul', {}, e.objections.map((o: any, i: number) => h('li', {}, o.text, ' — ', o.raised_by || '',
      o.outcome ? h('span', { class: 'tag' }, o.outcome) : may('/objections/{n}/resolve') ? form([h('input', { name: 'resolution', required: true, placeholder: t('resolution') }),
        select('outcome', [['dismissed', t('act_resolve_dis')], ['upheld', t('act_resolve_up')]])], t('submit'),
      (v) => post(`/objections/${o.id || i + 1}/resolve`, v)) : null)))) : null,
    acts.length ? h('div', { class: 'actions' }, acts) : null);
}

// proposeForm asks the facts of the admission conditions, evaluates them and proposes.
async function proposeForm(refresh: () => void): Promise<HTMLElement> {
  const cfg = await api<any>('GET', '/api/v1/config');
  const facts = new Map<string, any>();
  for (const p of cfg.admission || []) for (const c of p.conditions || []) if (!facts.has(c.fact)) facts.set(c.fact, c);
  const inputs = [...facts.values()].map((c) => {
    if (c.op === 'true' || c.op === 'false') return h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'f:' + c.fact, value: 'true' }), c.label || c.fact);
    if (c.op === 'in' && Array.isArray(c.value)) return field(c.label || c.fact, select('f:' + c.fact, [['', '—'], ...c.value.map((x: string) => [x, x] as [string, string])]));
    if (c.op === 'gte' || c.op === 'lte') return field(c.label || c.fact, h('input', { type: 'number', name: 'n:' + c.fact, step: 'any' }));
    return field(c.label || c.fact, h('input', { name: 'f:' + c.fact }));
  });
  const result = h('div', { class: 'evaluation' });
  const collect = (v: Record<string, string>) => {
    const out: Record<string, any> = {};
    for (const [k, c] of facts) {
      if (c.op === 'true' || c.op === 'false') out[k] = v['f:' + k] === 'true';
      else if (v['n:' + k] !== undefined && v['n:' + k] !== '') out[k] = Number(v['n:' + k]);
      else if (v['f:' + k]) out[k] = v['f:' + k];
    }
    return out;
  };
  const form_ = form([field(t('uscc'), h('input', { name: 'uscc', required: true, size: 20 })), h('fieldset', { class: 'facts-in' }, h('legend', {}, t('list_facts')), inputs), result],
    t('list_propose'), async (v) => {
      const fs = collect(v);
      const ev = await api<any>('POST', '/api/v1/positive-list/evaluate', { facts: fs });
      clear(result, h('p', {}, ev.admitted ? t('list_admitted', { path: tk('path_', ev.path) }) : t('list_not_admitted')),
        ev.admitted ? null : h('ul', { class: 'small' }, (ev.reasons || []).filter((r: any) => !r.passed).map((r: any) => h('li', {}, `${tk('path_', r.path)}: ${r.label || r.fact} — ${msgText(r.detail_message, r.detail || '')}`))));
      if (!ev.admitted) return;
      await api('POST', '/api/v1/positive-list', { uscc: v.uscc.trim(), facts: fs });
      form_.reset();
      refresh();
    }, { id: 'propose-form' });
  return h('details', { class: 'card' }, h('summary', {}, t('list_propose')), form_);
}
