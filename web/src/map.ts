// OpenLayers maps: Offsite's own vectors over an optional XYZ base map (OFFSITE_BASEMAP_URL).
// Without a base map nothing is fetched from anywhere but the API.
import 'ol/ol.css';
import Map from 'ol/Map';
import View from 'ol/View';
import VectorLayer from 'ol/layer/Vector';
import VectorSource from 'ol/source/Vector';
import GeoJSON from 'ol/format/GeoJSON';
import { Fill, Stroke, Style, Text } from 'ol/style';
import { defaults as defaultControls, ScaleLine } from 'ol/control';
import type Feature from 'ol/Feature';
import type { FeatureLike } from 'ol/Feature';
import { isEmpty, extend, createEmpty } from 'ol/extent';
import { t, tk } from './i18n';
import { basemaps, measureTool, mousePosition, switcher } from './basemaps';
import { h } from './ui';

export interface UIConfig {
  basemap_url: string;
  basemap_attribution: string;
  basemap_crs?: string;
  tianditu_key?: string;
  pipelines: string[];
  capture_kinds: string[];
}

let config: UIConfig = { basemap_url: '', basemap_attribution: '', pipelines: [], capture_kinds: [] };

export async function loadConfig(): Promise<UIConfig> {
  try {
    const r = await fetch('/ui/config.json');
    if (r.ok) config = await r.json();
  } catch {
    /* keep the defaults: no base map */
  }
  return config;
}

export function uiConfig(): UIConfig {
  return config;
}

// Colours of finding kinds; the legend shows them.
export const kindColours: Record<string, string> = {
  change: '#d62728',
  hotspot: '#ff7f0e',
  plume: '#9467bd',
  exceedance: '#1f77b4',
};

export const geojson = new GeoJSON({ dataProjection: 'EPSG:4326', featureProjection: 'EPSG:3857' });

export const parcelStyle = (f: FeatureLike) => new Style({
  stroke: new Stroke({ color: '#2c3e50', width: 2 }),
  fill: new Fill({ color: 'rgba(44, 62, 80, 0.08)' }),
  text: new Text({ text: String(f.get('parcel_id') ?? ''), font: '12px sans-serif', fill: new Fill({ color: '#2c3e50' }), overflow: true }),
});

export function findingStyle(selected: () => string | null) {
  return (f: FeatureLike) => {
    const c = kindColours[f.get('kind')] || '#e377c2';
    const sel = f.get('id') === selected();
    // An outline, so that the roof or field under it stays visible; the faint fill only
    // makes the inside clickable.
    return [
      new Style({ stroke: new Stroke({ color: 'rgba(255,255,255,0.9)', width: sel ? 6 : 4.5 }) }),
      new Style({ stroke: new Stroke({ color: sel ? '#000' : c, width: sel ? 3 : 2 }), fill: new Fill({ color: c + '0d' }) }),
    ];
  };
}

// newMap makes a map in el with the base map (when configured) and the given vector layers.
export function newMap(el: HTMLElement, layers: VectorLayer<VectorSource<Feature>>[]): Map {
  const bms = basemaps(config);
  const map = new Map({
    target: el,
    layers: [...bms.flatMap((b) => b.layers), ...layers],
    view: new View({ center: [13000000, 3700000], zoom: 5, maxZoom: 20 }),
    controls: defaultControls({ attribution: bms.length > 0 }).extend([new ScaleLine()]),
  });
  // The tools sit in a bar under the map, not over it.
  const bar = h('div', { class: 'map-tools', id: el.id ? el.id + '-tools' : undefined });
  if (el.parentNode) el.after(bar);
  else requestAnimationFrame(() => el.after(bar)); // a page that mounts the map element later
  const titled = layers.filter((l) => l.get('title')).map((l) => ({ label: String(l.get('title')), layer: l }));
  for (const c of [switcher(bms, titled), measureTool(map), mousePosition()]) {
    c.setTarget(bar);
    map.addControl(c);
  }
  (el as any).olMap = map; // for the browser tests
  map.on('rendercomplete', () => (el.dataset.rendered = 'true'));
  if (!bms.length) el.classList.add('no-basemap');
  return map;
}

export function fitTo(map: Map, sources: VectorSource<Feature>[]): void {
  const ext = createEmpty();
  for (const s of sources) if (s.getFeatures().length) extend(ext, s.getExtent()!);
  if (!isEmpty(ext)) map.getView().fit(ext, { padding: [40, 40, 40, 40], maxZoom: 18 });
}

export function legend(): HTMLElement {
  return h('div', { class: 'legend' },
    h('strong', {}, t('map_legend')), ' ',
    h('span', { class: 'swatch parcel' }), t('parcel'), ' ',
    Object.entries(kindColours).map(([k, c]) => [h('span', { class: 'swatch', style: `background:${c}` }), tk('kind_', k), ' ']),
    config.basemap_url || config.tianditu_key ? null : h('div', { class: 'muted small' }, t('no_basemap')));
}
