// Managing an enterprise from its page, for the staff who may: its facts (PUT
// /api/v1/enterprises/{uscc}), its parcels added by pasting GeoJSON, uploading a GeoJSON file
// or drawing on the page's map (PUT /api/v1/enterprises/{uscc}/parcels; the three fill one
// text box, sent as it reads), and a parcel retired (POST .../parcels/{id}/retire): it
// leaves the lists and clipping and stays in the evidence made on it.
import Draw from 'ol/interaction/Draw';
import VectorLayer from 'ol/layer/Vector';
import VectorSource from 'ol/source/Vector';
import type Feature from 'ol/Feature';
import type OlMap from 'ol/Map';
import { api, can } from '../api';
import { fmtDate, t } from '../i18n';
import { geojson } from '../map';
import { action, field, form, h, select } from '../ui';

export interface ManagedParcel { parcel_id: string; name?: string; retired_at?: string }

// manageSection is empty when the role may change nothing here.
export function manageSection(ent: any, parcels: ManagedParcel[], map: OlMap, refresh: () => void): HTMLElement | null {
  const uscc: string = ent.uscc;
  const base = `/api/v1/enterprises/${encodeURIComponent(uscc)}`;
  const parts: HTMLElement[] = [];
  if (can('PUT /api/v1/enterprises/{uscc}')) {
    const [lon, lat] = ent.location || ['', ''];
    parts.push(h('details', { class: 'edit-facts' }, h('summary', {}, t('em_edit')),
      form([
        field(t('ent_name'), h('input', { name: 'name', value: ent.name, required: true })),
        field(t('ent_industry'), h('input', { name: 'industry', value: ent.industry, required: true })),
        field(t('ent_permit'), h('input', { name: 'permit_no', value: ent.permit_no || '' })),
        field(t('ent_address'), h('input', { name: 'address', value: ent.address || '', size: 30 })),
        field(t('ent_zone'), h('input', { name: 'zone', value: ent.zone || '' })),
        field(t('mon_lon'), h('input', { name: 'lon', type: 'number', step: 'any', value: String(lon), 'data-field': 'location' })),
        field(t('mon_lat'), h('input', { name: 'lat', type: 'number', step: 'any', value: String(lat) })),
        field(t('ent_complaint'), h('input', { name: 'complaint_channel', value: ent.complaint_channel || '' })),
        field(t('ent_key'), select('key_discharger', [['false', t('no')], ['true', t('yes')]], String(!!ent.key_discharger))),
      ], t('em_save'), async (v) => {
        await api('PUT', base, {
          uscc, version: ent.version, name: v.name, industry: v.industry, permit_no: v.permit_no, address: v.address, zone: v.zone,
          location: v.lon && v.lat ? [Number(v.lon), Number(v.lat)] : undefined, complaint_channel: v.complaint_channel,
          key_discharger: v.key_discharger === 'true',
        });
        refresh();
      }, { id: 'facts-form' })));
  }
  if (can('PUT /api/v1/enterprises/{uscc}/parcels')) parts.push(parcelForm(base, map, refresh));
  const mayRetire = can('POST /api/v1/enterprises/{uscc}/parcels/{id}/retire');
  if (parcels.length && (mayRetire || parcels.some((p) => p.retired_at))) {
    parts.push(h('table', { class: 'table parcels', id: 'parcel-table' },
      h('thead', {}, h('tr', {}, [t('parcel'), t('ent_name'), ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, parcels.map((p) => h('tr', { dataset: { parcel: p.parcel_id, retired: String(!!p.retired_at) } },
        h('td', {}, h('code', {}, p.parcel_id)), h('td', {}, p.name || ''),
        h('td', {}, p.retired_at ? h('span', { class: 'tag' }, t('pc_retired', { at: fmtDate(p.retired_at) }))
          : mayRetire ? action(t('pc_retire'), async () => {
            if (!confirm(t('pc_retire_confirm', { id: p.parcel_id }))) return;
            await api('POST', `${base}/parcels/${encodeURIComponent(p.parcel_id)}/retire`, {});
            refresh();
          }, { class: 'secondary retire' }) : null))))));
  }
  if (!parts.length) return null;
  return h('section', { class: 'card', id: 'ent-manage' }, h('h2', {}, t('em_title')), ...parts);
}

// parcelForm: one text box of GeoJSON, filled by pasting, by a file, or by drawing.
function parcelForm(base: string, map: OlMap, refresh: () => void): HTMLElement {
  const text = h('textarea', { name: 'geojson', rows: 5, cols: 60, placeholder: t('pc_paste'), 'data-field': 'body features', required: true });
  const file = h('input', { type: 'file', accept: '.geojson,.json,application/geo+json,application/json', class: 'parcel-file' });
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (f) text.value = await f.text();
  });
  const id = h('input', { name: 'draw_id', placeholder: t('pc_draw_id'), size: 12 });
  const drawSrc = new VectorSource<Feature>();
  const layer = new VectorLayer({ source: drawSrc });
  let draw: Draw | null = null;
  const stop = () => {
    if (draw) map.removeInteraction(draw);
    draw = null;
  };
  const drawBtn = h('button', { type: 'button', class: 'secondary draw-parcel' }, t('pc_draw'));
  drawBtn.addEventListener('click', () => {
    if (draw) return stop();
    if (!map.getLayers().getArray().includes(layer)) map.addLayer(layer);
    draw = new Draw({ source: drawSrc, type: 'Polygon' });
    draw.on('drawend', (ev) => {
      ev.feature.set('parcel_id', id.value.trim() || `drawn-${drawSrc.getFeatures().length + 1}`);
      // After the source has the feature: every drawn polygon is in the box.
      setTimeout(() => {
        text.value = geojson.writeFeatures(drawSrc.getFeatures(), { decimals: 7 });
        stop();
      });
    });
    map.addInteraction(draw);
    map.getTargetElement()?.scrollIntoView({ block: 'center' });
  });
  return h('details', { class: 'add-parcels' }, h('summary', {}, t('pc_add')), h('p', { class: 'muted small' }, t('pc_help')),
    form([
      text,
      h('div', {}, file, ' ', id, ' ', drawBtn),
      h('label', {}, h('input', { type: 'checkbox', name: 'gcj02', value: 'true' }), ' ', t('pc_gcj02')),
      h('label', {}, h('input', { type: 'checkbox', name: 'repair', value: 'true' }), ' ', t('pc_repair')),
    ], t('pc_store'), async (v) => {
      const q = new URLSearchParams();
      if (v.gcj02) q.set('gcj02', 'true');
      if (v.repair) q.set('repair', 'true');
      let body: unknown;
      try {
        body = JSON.parse(v.geojson);
      } catch {
        body = v.geojson; // the API says what is wrong with it
      }
      await api('PUT', `${base}/parcels${q.toString() ? '?' + q : ''}`, body);
      drawSrc.clear();
      map.removeLayer(layer);
      refresh();
    }, { id: 'parcel-form' }));
}
