// Base maps and map tools: the configured XYZ base map (WGS84 or GCJ-02), Tianditu's vector
// and imagery presets with their label layers (when OFFSITE_TIANDITU_KEY is set), a layer
// switcher, a WGS84 coordinate readout and a length/area measure tool.
//
// Offsite's data are WGS84. A GCJ-02 base map (AutoNavi/Gaode and most Chinese commercial
// maps) is shifted by up to several hundred metres from WGS84; rather than moving the data,
// its tiles are declared in a "GCJ-02 web Mercator" projection and OpenLayers warps them
// (raster reprojection) into the view's WGS84 web Mercator, so the data, the measure tool and
// the coordinate readout stay true.
import type Map from 'ol/Map';
import TileLayer from 'ol/layer/Tile';
import VectorLayer from 'ol/layer/Vector';
import VectorSource from 'ol/source/Vector';
import XYZ from 'ol/source/XYZ';
import Draw from 'ol/interaction/Draw';
import Control from 'ol/control/Control';
import MousePosition from 'ol/control/MousePosition';
import { createStringXY } from 'ol/coordinate';
import { addCoordinateTransforms, addProjection, fromLonLat, get as getProjection, toLonLat } from 'ol/proj';
import Projection from 'ol/proj/Projection';
import { getArea, getLength } from 'ol/sphere';
import { Fill, Stroke, Style } from 'ol/style';
import type { LineString, Polygon } from 'ol/geom';
import { t } from './i18n';
import { h } from './ui';

// --- GCJ-02 ---------------------------------------------------------------------------

const A = 6378245.0;
const EE = 0.00669342162296594323;

function outOfChina(lon: number, lat: number): boolean {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function dLat(x: number, y: number): number {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
  r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
  return r;
}

function dLon(x: number, y: number): number {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
  r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
  return r;
}

// wgs84ToGcj02 is the published GCJ-02 forward formula; outside China it is the identity.
export function wgs84ToGcj02(lon: number, lat: number): [number, number] {
  if (outOfChina(lon, lat)) return [lon, lat];
  const rad = (lat / 180) * Math.PI;
  const m = 1 - EE * Math.sin(rad) * Math.sin(rad);
  const sm = Math.sqrt(m);
  const la = (dLat(lon - 105, lat - 35) * 180) / (((A * (1 - EE)) / (m * sm)) * Math.PI);
  const lo = (dLon(lon - 105, lat - 35) * 180) / ((A / sm) * Math.cos(rad) * Math.PI);
  return [lon + lo, lat + la];
}

// gcj02ToWgs84 inverts wgs84ToGcj02 by fixed-point iteration (to well under a centimetre).
export function gcj02ToWgs84(lon: number, lat: number): [number, number] {
  let w: [number, number] = [lon, lat];
  for (let i = 0; i < 6; i++) {
    const g = wgs84ToGcj02(w[0], w[1]);
    w = [w[0] - (g[0] - lon), w[1] - (g[1] - lat)];
  }
  return w;
}

// gcj02Mercator is web Mercator on GCJ-02 coordinates: the projection of GCJ-02 tiles.
export const gcj02Mercator = new Projection({ code: 'GCJ02:3857', units: 'm', extent: getProjection('EPSG:3857')!.getExtent(), global: true });
addProjection(gcj02Mercator);
addCoordinateTransforms('EPSG:3857', gcj02Mercator,
  (c) => { const [lon, lat] = toLonLat(c); return fromLonLat(wgs84ToGcj02(lon, lat)); },
  (c) => { const [lon, lat] = toLonLat(c); return fromLonLat(gcj02ToWgs84(lon, lat)); });
(window as any).offsiteGcj02 = { wgs84ToGcj02, gcj02ToWgs84 }; // for the browser tests

// --- base maps --------------------------------------------------------------------------

export interface BasemapConfig {
  basemap_url: string;
  basemap_attribution: string;
  basemap_crs?: string;
  tianditu_key?: string;
}

export interface Basemap {
  id: string;
  label: string;
  layers: TileLayer<XYZ>[];
}

function tianditu(layer: string, key: string): TileLayer<XYZ> {
  return new TileLayer({
    source: new XYZ({
      url: `https://t{0-7}.tianditu.gov.cn/${layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=${layer}` +
        `&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=${encodeURIComponent(key)}`,
      attributions: '© 天地图 Tianditu', maxZoom: 18, crossOrigin: null,
    }),
  });
}

// basemaps lists the base maps the configuration offers, the first shown at the start.
export function basemaps(cfg: BasemapConfig): Basemap[] {
  const out: Basemap[] = [];
  if (cfg.basemap_url) {
    const gcj = cfg.basemap_crs === 'gcj02';
    out.push({ id: 'xyz', label: t(gcj ? 'bm_xyz_gcj' : 'bm_xyz'), layers: [new TileLayer({
      source: new XYZ({ url: cfg.basemap_url, attributions: cfg.basemap_attribution || undefined, crossOrigin: null,
        projection: gcj ? gcj02Mercator : 'EPSG:3857' }),
    })] });
  }
  if (cfg.tianditu_key) {
    out.push({ id: 'tdt-vec', label: t('bm_tdt_vec'), layers: [tianditu('vec', cfg.tianditu_key), tianditu('cva', cfg.tianditu_key)] });
    out.push({ id: 'tdt-img', label: t('bm_tdt_img'), layers: [tianditu('img', cfg.tianditu_key), tianditu('cia', cfg.tianditu_key)] });
  }
  return out;
}

// switcher is a map control choosing the base map (or none) and the data layers shown.
export function switcher(bms: Basemap[], data: { label: string; layer: VectorLayer<VectorSource<any>> }[]): Control {
  const show = (id: string) => bms.forEach((b) => b.layers.forEach((l) => l.setVisible(b.id === id)));
  if (bms.length) show(bms[0].id);
  const sel = h('select', { class: 'basemap-select', 'aria-label': t('bm_title'), onchange: (e: Event) => show((e.target as HTMLSelectElement).value) },
    bms.map((b) => h('option', { value: b.id }, b.label)), h('option', { value: '' }, t('bm_none')));
  const boxes = data.map((d) => h('label', {}, h('input', { type: 'checkbox', checked: true,
    onchange: (e: Event) => d.layer.setVisible((e.target as HTMLInputElement).checked) }), ' ', d.label));
  const el = h('div', { class: 'ol-unselectable ol-control layer-switcher' }, bms.length ? sel : null, boxes);
  return new Control({ element: el });
}

// mousePosition shows the WGS84 longitude and latitude under the pointer.
export function mousePosition(): MousePosition {
  return new MousePosition({ coordinateFormat: createStringXY(6), projection: 'EPSG:4326', className: 'ol-mouse-position coord-readout' });
}

function fmtLength(m: number): string {
  return m >= 1000 ? `${(m / 1000).toFixed(2)} km` : `${m.toFixed(1)} m`;
}

function fmtArea(m2: number): string {
  return m2 >= 1e6 ? `${(m2 / 1e6).toFixed(3)} km²` : `${m2.toFixed(0)} m²`;
}

// measureTool adds a control measuring a line's length or a polygon's area on the
// ellipsoid (ol/sphere), whatever the base map.
export function measureTool(map: Map): Control {
  const src = new VectorSource();
  const style = new Style({ stroke: new Stroke({ color: '#e6550d', width: 2, lineDash: [6, 4] }), fill: new Fill({ color: 'rgba(230,85,13,0.08)' }) });
  // Unmanaged (setMap), so it is not among the map's data layers.
  new VectorLayer({ source: src, style, zIndex: 100 }).setMap(map);
  const out = h('output', { class: 'measure-out' });
  let draw: Draw | null = null;
  const set = (mode: string) => {
    if (draw) map.removeInteraction(draw);
    draw = null;
    src.clear();
    out.textContent = '';
    if (mode !== 'LineString' && mode !== 'Polygon') return;
    draw = new Draw({ source: src, type: mode, style });
    const show = (geom: LineString | Polygon) => { out.textContent = mode === 'LineString' ? fmtLength(getLength(geom)) : fmtArea(getArea(geom)); };
    draw.on('drawstart', (e) => {
      src.clear();
      e.feature.getGeometry()!.on('change', (g) => show(g.target as LineString | Polygon));
    });
    draw.on('drawend', (e) => show(e.feature.getGeometry() as LineString | Polygon));
    map.addInteraction(draw);
  };
  const sel = h('select', { class: 'measure-select', 'aria-label': t('measure'), onchange: (e: Event) => set((e.target as HTMLSelectElement).value) },
    h('option', { value: '' }, t('measure_off')), h('option', { value: 'LineString' }, t('measure_length')), h('option', { value: 'Polygon' }, t('measure_area')));
  return new Control({ element: h('div', { class: 'ol-unselectable ol-control measure' }, sel, ' ', out) });
}
