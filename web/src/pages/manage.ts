// Registration: an enterprise (POST /api/v1/enterprises) and a capture already uploaded to
// the captures bucket (POST /api/v1/captures), each shown only to the roles that may do it.
// A refused field is named in the user's language (api.ts); a registered capture links to
// its record, an enterprise to its page.
import { api, can } from '../api';
import { t, tk } from '../i18n';
import { uiConfig } from '../map';
import { field, form, h, select } from '../ui';

export async function managePage(app: HTMLElement): Promise<void> {
  app.append(h('h1', {}, t('mg_title')));
  if (can('POST /api/v1/enterprises')) {
    const out = h('div', { class: 'mg-out' });
    app.append(h('section', { class: 'card', id: 'mg-enterprise' }, h('h2', {}, t('mg_enterprise')),
      form([
        field(t('uscc'), h('input', { name: 'uscc', required: true, maxlength: 18 })),
        field(t('ent_name'), h('input', { name: 'name', required: true })),
        field(t('ent_industry'), h('input', { name: 'industry', required: true })),
        field(t('ent_permit'), h('input', { name: 'permit_no' })),
        field(t('ent_address'), h('input', { name: 'address' })),
        field(t('ent_zone'), h('input', { name: 'zone' })),
        field(t('mon_lon'), h('input', { name: 'lon', type: 'number', step: 'any', required: true })),
        field(t('mon_lat'), h('input', { name: 'lat', type: 'number', step: 'any', required: true })),
        field(t('ent_complaint'), h('input', { name: 'complaint_channel', value: '12369' })),
        field(t('ent_key'), select('key_discharger', [['false', t('no')], ['true', t('yes')]])),
      ], t('submit'), async (v) => {
        const e = await api<any>('POST', '/api/v1/enterprises', {
          uscc: v.uscc.trim(), name: v.name, industry: v.industry, permit_no: v.permit_no, address: v.address, zone: v.zone,
          location: [Number(v.lon), Number(v.lat)], complaint_channel: v.complaint_channel, key_discharger: v.key_discharger === 'true',
        });
        out.replaceChildren(h('p', { class: 'ok' }, t('done_ok'), ' ', h('a', { href: '#/enterprises/' + e.uscc }, e.name || e.uscc)));
      }, { id: 'mg-enterprise-form' }), out));
  }
  if (can('POST /api/v1/captures')) {
    const out = h('div', { class: 'mg-out' });
    const kinds = uiConfig().capture_kinds;
    app.append(h('section', { class: 'card', id: 'mg-capture' }, h('h2', {}, t('mg_capture')), h('p', { class: 'muted small' }, t('mg_capture_help')),
      form([
        field(t('field_kind'), select('kind', kinds.map((k) => [k, tk('cap_', k)] as [string, string]))),
        field(t('field_acquired_at'), h('input', { name: 'acquired_at', type: 'datetime-local', required: true })),
        field(t('field_sensor'), h('input', { name: 'sensor' })),
        field(t('field_key'), h('input', { name: 'key', required: true })),
      ], t('submit'), async (v) => {
        const c = await api<any>('POST', '/api/v1/captures', { kind: v.kind, acquired_at: new Date(v.acquired_at).toISOString(), sensor: v.sensor, key: v.key });
        out.replaceChildren(h('p', { class: 'ok', dataset: { capture: String(c.id) } }, t('mg_capture_ok', { id: c.id, status: tk('capst_', c.status) })));
      }, { id: 'mg-capture-form' }), out));
  }
  if (!app.querySelector('section')) app.append(h('p', { class: 'muted' }, t('no_actions')));
}
