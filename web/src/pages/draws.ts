// Draws (双随机): the draws made, newest first, each with its seed, algorithm, groups and
// targets, and its public page (/public/draws/{id}); the roles that may draw get the form:
// an optional seed (16 hex digits) and the inspectors, one a line, "id: conflicting USCCs".
import { api, can } from '../api';
import { fmtDate, t, tk } from '../i18n';
import { algorithmText } from '../messages';
import { clear, copyable, errorBox, field, form, h, loading } from '../ui';

interface Draw {
  id: number; created_by: string; created_at: string;
  result: { algorithm: string; seed: string; pool_size: number; groups: { name: string; size: number; ratio: number; drawn: number }[];
    targets: { uscc: string; group: string; mode: string; inspectors: string[] }[] };
}

function drawView(d: Draw): HTMLElement {
  const r = d.result;
  return h('article', { class: 'card draw', dataset: { id: String(d.id) } },
    h('h3', {}, t('dr_draw', { id: d.id }), ' ', h('span', { class: 'muted small' }, fmtDate(d.created_at, true), ' · ', d.created_by)),
    h('dl', { class: 'facts' },
      h('dt', {}, t('dr_seed')), h('dd', { class: 'seed' }, copyable(r.seed)),
      h('dt', {}, t('dr_algorithm')), h('dd', { class: 'algorithm' }, algorithmText(r.algorithm) ?? r.algorithm,
        algorithmText(r.algorithm) !== r.algorithm && algorithmText(r.algorithm) !== null
          ? h('details', { class: 'small' }, h('summary', {}, t('msg_original')), h('code', {}, r.algorithm)) : null),
      h('dt', {}, t('dr_pool')), h('dd', {}, String(r.pool_size)),
      h('dt', {}, t('dr_groups')), h('dd', {}, (r.groups || []).map((g) => h('span', { class: 'tag' },
        t('dr_group_v', { group: tk('grp_', g.name), drawn: g.drawn, size: g.size, ratio: (g.ratio * 100).toFixed(0) })))),
      h('dt', {}, t('dr_public')), h('dd', {}, h('a', { href: `/public/draws/${d.id}`, target: '_blank', rel: 'noopener' }, `/public/draws/${d.id}`))),
    (r.targets || []).length
      ? h('table', { class: 'table targets' },
        h('thead', {}, h('tr', {}, [t('uscc'), t('dr_group'), t('dr_mode'), t('dr_inspectors')].map((c) => h('th', {}, c)))),
        h('tbody', {}, r.targets.map((x) => h('tr', {},
          h('td', {}, h('a', { href: '#/enterprises/' + x.uscc }, x.uscc)), h('td', {}, tk('grp_', x.group)), h('td', {}, tk('mode_', x.mode)),
          h('td', {}, (x.inspectors || []).join('、'))))))
      : h('p', { class: 'empty' }, t('dr_no_targets')));
}

// parseInspectors reads "id: USCC, USCC" lines.
function parseInspectors(text: string): { id: string; conflicts: string[] }[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const [id, rest] = l.split(/[:：]/, 2);
    return { id: id.trim(), conflicts: (rest || '').split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean) };
  });
}

export async function drawsPage(app: HTMLElement): Promise<void> {
  app.append(h('h1', {}, t('dr_title')));
  const list = h('div', { id: 'draw-list' }, loading());
  const reload = async () => {
    try {
      const r = await api<{ draws: Draw[]; total: number }>('GET', '/api/v1/draws?limit=20');
      clear(list, r.draws.length ? r.draws.map(drawView) : h('p', { class: 'empty' }, t('dr_none')));
    } catch (e) {
      clear(list, errorBox(e));
    }
  };
  if (can('POST /api/v1/draws')) {
    app.append(h('section', { class: 'card' }, h('h2', {}, t('dr_new')), h('p', { class: 'muted small' }, t('dr_help')),
      form([field(t('dr_seed'), h('input', { name: 'seed', pattern: '[0-9a-fA-F]{16}', placeholder: t('dr_seed_auto') })),
        field(t('dr_inspectors'), h('textarea', { name: 'inspectors', rows: 4, required: true, placeholder: 'zhang\nli: 91320594MA1W6K2Q3M' }))],
      t('dr_run'), async (v) => {
        const body: Record<string, unknown> = { inspectors: parseInspectors(v.inspectors || '') };
        if (v.seed) body.seed = v.seed;
        await api('POST', '/api/v1/draws', body);
        await reload();
      }, { id: 'draw-form' })));
  }
  app.append(list);
  await reload();
}
