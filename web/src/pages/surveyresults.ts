// A finished survey's results: the parcels in its zone and the findings of its captures,
// drawn on the survey's map (findings as outlines) and listed.
import VectorLayer from 'ol/layer/Vector';
import VectorSource from 'ol/source/Vector';
import type Feature from 'ol/Feature';
import type OlMap from 'ol/Map';
import { transformExtent } from 'ol/proj';
import { api } from '../api';
import { fmtDate, t, tk } from '../i18n';
import { findingStyle, fitTo, geojson, kindColours, parcelStyle } from '../map';
import { clear, errorBox, h, loading } from '../ui';

export function surveyResults(map: OlMap, zoneSrc: VectorSource<Feature>, captureIDs: number[]): HTMLElement {
  const el = h('section', { class: 'card', id: 'survey-results' }, h('h2', {}, t('sr_title')), loading());
  const parcelSrc = new VectorSource<Feature>();
  const findingSrc = new VectorSource<Feature>();
  map.addLayer(new VectorLayer({ source: parcelSrc, style: parcelStyle }));
  map.addLayer(new VectorLayer({ source: findingSrc, style: findingStyle(() => null) }));
  (async () => {
    try {
      const [w, s, e, n] = transformExtent(zoneSrc.getExtent()!, 'EPSG:3857', 'EPSG:4326');
      const parcels = await api<any>('GET', `/api/v1/parcels?bbox=${w},${s},${e},${n}&limit=1000`);
      const seen = new Map<string, any>();
      for (const id of [...new Set(captureIDs)]) {
        const fc = await api<any>('GET', `/api/v1/findings?capture_id=${id}&limit=1000`);
        for (const f of fc.features || []) seen.set(String(f.id ?? f.properties?.id), f);
      }
      const findings = [...seen.values()];
      parcelSrc.addFeatures(geojson.readFeatures({ type: 'FeatureCollection', features: (parcels.features || []).map((f: any) =>
        ({ ...f, properties: { ...f.properties, parcel_id: f.properties?.parcel_id ?? f.id } })) }) as Feature[]);
      findingSrc.addFeatures(geojson.readFeatures({ type: 'FeatureCollection', features: findings.map((f: any) =>
        ({ ...f, properties: { ...f.properties, id: String(f.id) } })) }) as Feature[]);
      fitTo(map, [zoneSrc, parcelSrc]);
      (map.getTargetElement() as HTMLElement).dataset.results = `${parcelSrc.getFeatures().length}/${findings.length}`;
      clear(el, h('h2', {}, t('sr_title')),
        h('p', { class: 'muted' }, t('sr_counts', { parcels: parcelSrc.getFeatures().length, findings: findings.length })),
        findings.length ? h('ul', { class: 'findings', id: 'survey-findings' }, findings.map((f: any) => {
          const p = f.properties || {};
          return h('li', { dataset: { id: String(f.id) } }, h('span', { class: 'swatch', style: `background:${kindColours[p.kind] || '#e377c2'}` }),
            h('strong', {}, tk('kind_', p.kind)), ' ', tk('cls_', p.class), ' · ', p.parcel_id || '', ' · ', fmtDate(p.detected_at),
            p.severity ? h('span', { class: 'tag' }, tk('sev_', p.severity)) : null);
        })) : h('p', { class: 'empty' }, t('no_findings')));
    } catch (e) {
      clear(el, h('h2', {}, t('sr_title')), errorBox(e));
    }
  })();
  return el;
}
