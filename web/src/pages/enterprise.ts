// An enterprise: its parcels and findings on a map, a finding's before/after quick-looks,
// the evidence with hashes, provenance and downloads, and its off-site inspections with the
// steps taken, the proof uploaded, and the actions the user's role allows.
import ImageLayer from 'ol/layer/Image';
import VectorLayer from 'ol/layer/Vector';
import ImageStatic from 'ol/source/ImageStatic';
import VectorSource from 'ol/source/Vector';
import type Feature from 'ol/Feature';
import type OlMap from 'ol/Map';
import { transform, transformExtent } from 'ol/proj';
import { api, ApiError, can, download, downloadProof, evidenceBytes, evidenceHead, evidenceURL, uploadProof, type Proof } from '../api';
import { captureLabel } from '../captures';
import { warningText } from '../messages';
import { NeedBytes, readGeoRef, type GeoRef } from '../geotiff';
import { bandsFor, decodeCOG, paint, pixelRings, sharedStretch, type Composite, type Raster } from '../stretch';
import { fmtBytes, fmtDate, t, tk } from '../i18n';
import { findingStyle, fitTo, geojson, kindColours, legend, newMap, parcelStyle } from '../map';
import { projectionCode } from '../proj';
import { action, clear, copyable, errorBox, field, form, h, loading, select } from '../ui';
import { factsBox, monitoringFacts, monitoringSection } from './monitoring';
import { healthVisitsSection } from './healthvisits';
import { standingSection } from './standing';
import { manageSection } from './entmanage';

interface Artifact { name: string; key: string; sha256: string; size: number; media_type: string }
interface Finding {
  id: string; parcel_id: string; capture_ids: number[]; kind: string; class: string; status?: string; score: number;
  area_m2: number; severity?: string; pipeline: string; pipeline_hash: string; detected_at: string;
  provenance: any; artifacts: Artifact[]; geometry: any;
}
interface Clip {
  capture_id: number; parcel_id: string; cog_key: string; cog_sha256: string; cog_bytes: number; quicklook_key: string;
  quicklook_sha256: string; width: number; height: number; valid_pixels: number; created_at: string;
}
interface EvParcel { parcel_id: string; name?: string; retired_at?: string; geometry: any; findings: Finding[]; clips: Clip[] }

export async function enterprisePage(app: HTMLElement, [uscc]: string[]): Promise<() => void> {
  const urls: string[] = []; // object URLs to revoke when leaving
  const blobs = new Map<string, Promise<string>>();
  // blobURL fetches an evidence object once per page, for the quick-looks and the overlay.
  const blobURL = (key: string): Promise<string> => {
    let p = blobs.get(key);
    if (!p) {
      p = evidenceURL(key).then((u) => (urls.push(u), u));
      p.catch(() => blobs.delete(key));
      blobs.set(key, p);
    }
    return p;
  };
  const ent = await api<any>('GET', '/api/v1/enterprises/' + encodeURIComponent(uscc));
  app.append(h('h1', {}, ent.name, ' ', h('span', { class: 'status st-' + (ent.list_status || 'none') }, tk('st_', ent.list_status || 'none'))),
    h('dl', { class: 'facts' },
      h('dt', {}, t('uscc')), h('dd', {}, h('code', {}, ent.uscc)),
      h('dt', {}, t('ent_industry')), h('dd', {}, ent.industry),
      h('dt', {}, t('ent_permit')), h('dd', {}, ent.permit_no),
      h('dt', {}, t('ent_address')), h('dd', {}, ent.address),
      h('dt', {}, t('ent_zone')), h('dd', {}, ent.zone || ''),
      h('dt', {}, t('ent_key')), h('dd', {}, ent.key_discharger ? t('yes') : t('no'))));

  const mapEl = h('div', { class: 'map', id: 'ent-map' });
  const overlayEl = h('div', { class: 'overlay-ctl', id: 'overlay-ctl' });
  const findingList = h('div', { id: 'finding-list' }, loading());
  const detail = h('section', { id: 'finding-detail', class: 'card' }, h('p', { class: 'muted' }, t('select_finding')));
  const clipsEl = h('section', { id: 'clips' });
  const inspEl = h('section', { id: 'inspections', class: 'card' }, h('h2', {}, t('inspections')), loading());
  app.append(h('div', { class: 'two-col' },
    h('section', { class: 'card' }, h('h2', {}, t('map')), mapEl, overlayEl, legend()),
    h('section', { class: 'card' }, h('h2', {}, t('findings')), findingList)), detail, clipsEl, inspEl);
  if (can('GET /api/v1/enterprises/{uscc}/monitoring')) {
    const monEl = h('section', { id: 'monitoring', class: 'card' });
    app.append(monEl);
    void monitoringSection(monEl, uscc, urls);
  }
  if (can('GET /api/v1/enterprises/{uscc}/standing')) app.append(standingSection(uscc));
  if (can('GET /api/v1/enterprises/{uscc}/health-visits')) app.append(healthVisitsSection(uscc));

  let selected: string | null = null;
  const parcelSrc = new VectorSource<Feature>();
  const findingSrc = new VectorSource<Feature>();
  const findingLayer = new VectorLayer({ source: findingSrc, style: findingStyle(() => selected) });
  parcelLayerTitle(findingLayer, 'layer_findings');
  const map = newMap(mapEl, [parcelLayerTitle(new VectorLayer({ source: parcelSrc, style: parcelStyle }), 'layer_parcels'), findingLayer]);
  // A finding's clip COGs, decoded once for the before/after view and the map overlay.
  const cogPairs = new Map<string, Promise<Raster[] | string>>();
  const pairFor = (f: Finding, before: Artifact, after: Artifact): Promise<Raster[] | string> => {
    let p = cogPairs.get(f.id);
    if (!p) {
      p = cogPair(before, after, f.artifacts);
      p.catch(() => cogPairs.delete(f.id));
      cogPairs.set(f.id, p);
    }
    return p;
  };
  // stretched is a finding's before or after drawn from its clip COG in true colour with the
  // stretch shared by both dates, as an object URL, or null where the quick-look PNG is shown.
  const stretched = async (f: Finding, role: 'before' | 'after'): Promise<string | null> => {
    const pngs = f.artifacts.filter((a) => a.media_type === 'image/png');
    const before = pngs.find((a) => /(^|\/)before-/.test(a.name));
    const after = pngs.find((a) => /(^|\/)after-/.test(a.name));
    if (!before || !after) return null;
    const pair = await pairFor(f, before, after);
    if (typeof pair === 'string') return null;
    const bands = pair.map((r) => bandsFor(r, 'true')!);
    const canvas = document.createElement('canvas');
    const i = role === 'before' ? 0 : 1;
    paint(canvas, pair[i], bands[i], sharedStretch(pair, bands));
    const blob = await new Promise<Blob | null>((res) => canvas.toBlob(res, 'image/png'));
    if (!blob) return null;
    const u = URL.createObjectURL(blob);
    urls.push(u);
    return u;
  };
  const overlay = quickLookOverlay(map, mapEl, overlayEl, blobURL, stretched);

  let findings: Finding[] = [];
  const select_ = (id: string) => {
    selected = id;
    findingLayer.changed();
    for (const li of findingList.querySelectorAll('li')) li.classList.toggle('selected', (li as HTMLElement).dataset.id === id);
    const f = findings.find((x) => x.id === id);
    if (f) showFinding(f);
  };
  map.on('singleclick', (ev) => {
    const hit = map.forEachFeatureAtPixel(ev.pixel, (f) => f, { layerFilter: (l) => l === findingLayer });
    if (hit) select_(String(hit.get('id')));
  });

  const showFinding = async (f: Finding) => {
    const f3857 = findingSrc.getFeatures().find((x) => x.get('id') === f.id);
    if (f3857) map.getView().fit(f3857.getGeometry()!.getExtent(), { padding: [80, 80, 80, 80], maxZoom: 17, duration: 250 });
    const pngs = f.artifacts.filter((a) => a.media_type === 'image/png');
    const before = pngs.find((a) => /(^|\/)before-/.test(a.name));
    const after = pngs.find((a) => /(^|\/)after-/.test(a.name));
    overlay.show(f);
    clear(detail,
      h('h2', {}, t('findings'), ': ', tk('kind_', f.kind), ' · ', tk('cls_', f.class)),
      h('dl', { class: 'facts' },
        h('dt', {}, t('parcel')), h('dd', {}, f.parcel_id),
        h('dt', {}, t('score')), h('dd', {}, f.score.toFixed(2)),
        h('dt', {}, t('area')), h('dd', {}, `${Math.round(f.area_m2).toLocaleString()} m²`),
        f.severity ? [h('dt', {}, t('severity')), h('dd', {}, tk('sev_', f.severity))] : null,
        h('dt', {}, t('detected_at')), h('dd', {}, fmtDate(f.detected_at, true)),
        h('dt', {}, t('pipeline')), h('dd', {}, tk('cap_', f.pipeline), ' ', copyable(f.pipeline_hash)),
        h('dt', {}, t('captures')), h('dd', {}, f.capture_ids.flatMap((id, i) => i ? [' → ', captureLabel(id)] : [captureLabel(id)]))),
      before && after ? await beforeAfter(before, after, f, pairFor(f, before, after), blobURL) : h('p', { class: 'muted' }, t('no_quicklooks')),
      h('h3', {}, t('evidence')),
      artifactTable(f.artifacts, urls),
      h('details', { class: 'provenance' }, h('summary', {}, t('provenance')), h('pre', {}, JSON.stringify(f.provenance, null, 2))));
  };

  // showList lists the findings on the map and beside it, newest first; empty names what to
  // say when there is none.
  const showList = (empty: string) => {
    mapEl.dataset.parcels = String(parcelSrc.getFeatures().length);
    mapEl.dataset.findings = String(findingSrc.getFeatures().length);
    clear(findingList, !findings.length ? h('p', { class: 'empty' }, t(empty))
      : h('ul', { class: 'findings' }, findings.map((f) => h('li', { dataset: { id: f.id, kind: f.kind }, onclick: () => select_(f.id) },
        h('span', { class: 'swatch', style: `background:${kindColours[f.kind] || '#e377c2'}` }),
        h('strong', {}, tk('kind_', f.kind)), ' ', tk('cls_', f.class), ' · ', f.parcel_id, ' · ', fmtDate(f.detected_at),
        f.severity ? h('span', { class: 'tag' }, tk('sev_', f.severity)) : null))));
  };

  if (can('GET /api/v1/enterprises/{uscc}/evidence')) {
    try {
      const ev = await api<{ parcels: EvParcel[] }>('GET', `/api/v1/enterprises/${encodeURIComponent(uscc)}/evidence`);
      for (const p of ev.parcels) {
        const pf = geojson.readFeature({ type: 'Feature', geometry: p.geometry, properties: { parcel_id: p.parcel_id } }) as Feature;
        parcelSrc.addFeature(pf);
        for (const f of p.findings) {
          findings.push(f);
          findingSrc.addFeature(geojson.readFeature({ type: 'Feature', geometry: f.geometry, properties: { id: f.id, kind: f.kind } }) as Feature);
        }
      }
      findings.sort((a, b) => b.detected_at.localeCompare(a.detected_at));
      showList(ev.parcels.length ? 'no_findings' : 'no_parcels');
      clear(clipsEl, clipSection(ev.parcels, urls));
      // Managing the enterprise, on the page re-read after a change.
      const mg = manageSection(ent, ev.parcels, map, () => window.dispatchEvent(new HashChangeEvent('hashchange')));
      if (mg) clipsEl.before(mg);
    } catch (e) {
      clear(findingList, errorBox(e));
    }
  } else {
    // An enterprise sees its parcels and the findings its inspections cite, their evidence
    // read through the inspection (GET /api/v1/inspections/{id}/evidence), not the bucket.
    const fc = await api<any>('GET', `/api/v1/enterprises/${encodeURIComponent(uscc)}/parcels`);
    parcelSrc.addFeatures(geojson.readFeatures(fc) as Feature[]);
    try {
      findings = await citedFindings(uscc);
      for (const f of findings) findingSrc.addFeature(geojson.readFeature({ type: 'Feature', geometry: f.geometry, properties: { id: f.id, kind: f.kind } }) as Feature);
      showList('no_cited_findings');
    } catch (e) {
      clear(findingList, errorBox(e));
    }
  }
  fitTo(map, [parcelSrc, findingSrc]);
  renderInspections(inspEl, uscc);
  const reinspect = () => renderInspections(inspEl, uscc);
  window.addEventListener('offsite:inspections', reinspect);
  return () => {
    window.removeEventListener('offsite:inspections', reinspect);
    map.setTarget(undefined);
    urls.forEach((u) => URL.revokeObjectURL(u));
  };
}

// quickLookOverlay lays the selected finding's before or after quick-look on the map, in
// place, under the vectors, with a choice of which and an opacity.
//
// Placement: a quick-look PNG is drawn on the grid of the clip COG stored beside it, so the
// COG's header (read with a Range request) gives its CRS and extent in that CRS. The image
// is reprojected from the scene's CRS (registered with proj4) by OpenLayers, not stretched
// over its WGS84 bounding box: the scene grid is turned against the map's by the meridian
// convergence, about Δλ·sin φ, up to 1.6° at the edge of a UTM zone at 31°N, which moves the
// corners of even a 50-pixel Sentinel-2 quick-look by more than a pixel, and of a drone
// orthophoto thousands of pixels wide by tens.
function quickLookOverlay(map: OlMap, mapEl: HTMLElement, el: HTMLElement, blobURL: (key: string) => Promise<string>,
  stretched: (f: Finding, role: 'before' | 'after') => Promise<string | null>) {
  const layers: ImageLayer<ImageStatic>[] = [];
  const geoRefs = new Map<string, Promise<GeoRef>>();
  let which = 'after';
  let opacity = 0.85;
  let generation = 0;
  const status = h('span', { class: 'muted small', id: 'overlay-status' }, t('overlay_select'));
  const apply = () => layers.forEach((l) => { l.setVisible(l.get('role') === which); l.setOpacity(opacity); });
  clear(el, h('strong', {}, t('overlay')), ' ',
    select('overlay', [['after', t('after')], ['before', t('before')], ['none', t('overlay_none')]], which,
      { id: 'overlay-which', onchange: (e: Event) => { which = (e.target as HTMLSelectElement).value; apply(); } }),
    ' ', h('label', {}, t('overlay_opacity'), ' ', h('input', {
      type: 'range', min: 0, max: 100, value: opacity * 100, id: 'overlay-opacity',
      oninput: (e: Event) => { opacity = Number((e.target as HTMLInputElement).value) / 100; apply(); },
    })), ' ', status);

  const geoRef = (key: string): Promise<GeoRef> => {
    let p = geoRefs.get(key);
    if (!p) {
      p = (async () => {
        let end = 16 << 10;
        for (let i = 0; ; i++) {
          try {
            return readGeoRef(await evidenceHead(key, end));
          } catch (e) {
            if (!(e instanceof NeedBytes) || i === 3) throw e;
            end = Math.max(e.end, end * 4);
          }
        }
      })();
      p.catch(() => geoRefs.delete(key));
      geoRefs.set(key, p);
    }
    return p;
  };
  const remove = () => {
    layers.splice(0).forEach((l) => map.removeLayer(l));
    delete mapEl.dataset.quicklook;
    delete mapEl.dataset.quicklookExtent;
  };

  return {
    async show(f: Finding) {
      const gen = ++generation;
      remove();
      const pairs = (['before', 'after'] as const).map((role) => {
        const png = f.artifacts.find((a) => a.media_type === 'image/png' && new RegExp(`(^|/)${role}-`).test(a.name));
        const cog = png && f.artifacts.find((a) => a.name === png.name.replace(/\.png$/, '.tif'));
        return { role, png, cog };
      }).filter((p) => p.png && p.cog);
      if (!pairs.length) {
        clear(status, t('overlay_missing'));
        return;
      }
      clear(status, t('loading'));
      try {
        const made = await Promise.all(pairs.map(async ({ role, png, cog }) => {
          // The COG drawn with the stretch shared by both dates where it can be, else the PNG.
          const [ref, drawn] = await Promise.all([geoRef(cog!.key), stretched(f, role)]);
          const url = drawn ?? (await blobURL(png!.key));
          const code = projectionCode(ref.epsg);
          if (!code) throw new OverlayError(t('overlay_crs', { epsg: ref.epsg }));
          const layer = new ImageLayer({
            className: 'quicklook',
            source: new ImageStatic({ url, imageExtent: ref.extent, projection: code, interpolate: false }),
            properties: { role },
          });
          return { layer, ref, code, source: drawn ? 'cog' : 'png' };
        }));
        if (gen !== generation) return; // another finding was selected meanwhile
        const vectors = map.getLayers().getLength() - 2; // under the parcels and findings
        for (const m of made) {
          layers.push(m.layer);
          map.getLayers().insertAt(vectors, m.layer);
        }
        apply();
        const { ref, code } = made[made.length - 1];
        const ext = transformExtent(ref.extent, code, map.getView().getProjection());
        mapEl.dataset.quicklook = f.id;
        mapEl.dataset.quicklookSource = made.map((m) => m.source).join(',');
        mapEl.dataset.quicklookExtent = ext.map((v) => v.toFixed(2)).join(',');
        clear(status, t('overlay_on', { epsg: ref.epsg, w: ref.width, h: ref.height }));
      } catch (e) {
        if (gen !== generation) return;
        // The API's refusals in its words; a COG header that cannot place the image, said so.
        clear(status, e instanceof ApiError ? errorBox(e) : h('span', { class: 'error', role: 'alert' },
          e instanceof OverlayError ? e.message : t('overlay_missing'), ' ', h('code', { class: 'small' }, String((e as Error).message || e))));
      }
    },
  };
}

// OverlayError is a reason, in the user's language, why a quick-look cannot be laid on the map.
class OverlayError extends Error {}

// beforeAfter shows before and after with a swipe, a toggle, or side by side: drawn from the
// clip COGs beside the quick-looks with one stretch for both dates and a true/false colour
// choice (stretch.ts), or, where the COGs cannot be drawn so, the quick-look PNGs.
async function beforeAfter(before: Artifact, after: Artifact, f: Finding, cogs_: Promise<Raster[] | string>, blobURL: (key: string) => Promise<string>): Promise<HTMLElement> {
  const box = h('div', { class: 'ba', id: 'before-after' });
  try {
    const pair = await cogs_;
    const cogs = typeof pair === 'string' ? null : pair;
    let imgB: HTMLElement, imgA: HTMLElement;
    let colour: HTMLElement | null = null;
    if (cogs) {
      imgB = h('canvas', { class: 'ba-before', 'aria-label': t('before') });
      imgA = h('canvas', { class: 'ba-after', 'aria-label': t('after') });
      const draw = (c: Composite) => {
        const bands = cogs.map((r) => bandsFor(r, c)!);
        const s = sharedStretch(cogs, bands);
        paint(imgB as HTMLCanvasElement, cogs[0], bands[0], s, outlinesOn(cogs[0], f.geometry));
        paint(imgA as HTMLCanvasElement, cogs[1], bands[1], s, outlinesOn(cogs[1], f.geometry));
        box.dataset.composite = c;
      };
      const choices: [string, string][] = [['true', t('true_colour')]];
      if (cogs.every((r) => bandsFor(r, 'false'))) choices.push(['false', t('false_colour')]);
      colour = select('ba-colour', choices, 'true', { id: 'ba-colour', onchange: (e: Event) => draw((e.target as HTMLSelectElement).value as Composite) });
      draw('true');
      box.dataset.source = 'cog';
    } else {
      const [b, a] = await Promise.all([blobURL(before.key), blobURL(after.key)]);
      imgB = h('img', { src: b, alt: t('before'), class: 'ba-before' });
      imgA = h('img', { src: a, alt: t('after'), class: 'ba-after' });
      box.dataset.source = 'png';
      box.dataset.why = pair as string; // why not the COGs, for whoever inspects the page
    }
    const stage = h('div', { class: 'ba-stage swipe' }, imgB, imgA, h('span', { class: 'ba-label l' }, t('before')), h('span', { class: 'ba-label r' }, t('after')));
    const range = h('input', { type: 'range', min: 0, max: 100, value: 50, id: 'swipe', 'aria-label': t('swipe') });
    const setSwipe = () => (imgA.style.clipPath = `inset(0 0 0 ${range.value}%)`);
    range.addEventListener('input', setSwipe);
    setSwipe();
    let showingAfter = true;
    const toggleBtn = h('button', { type: 'button', id: 'ba-toggle', hidden: true }, t('show_before'));
    toggleBtn.addEventListener('click', () => {
      showingAfter = !showingAfter;
      imgA.style.visibility = showingAfter ? 'visible' : 'hidden';
      toggleBtn.textContent = showingAfter ? t('show_before') : t('show_after');
    });
    const mode = (m: string) => {
      stage.className = 'ba-stage ' + m;
      range.hidden = m !== 'swipe';
      toggleBtn.hidden = m !== 'toggle';
      imgA.style.clipPath = m === 'swipe' ? `inset(0 0 0 ${range.value}%)` : '';
      imgA.style.visibility = 'visible';
      showingAfter = true;
      toggleBtn.textContent = t('show_before');
    };
    box.append(h('div', { class: 'ba-modes' },
      select('ba-mode', [['swipe', t('swipe')], ['toggle', t('toggle')], ['side', t('side_by_side')]], 'swipe', { onchange: (e: Event) => mode((e.target as HTMLSelectElement).value) }),
      range, toggleBtn, colour, colour ? h('span', { class: 'muted small' }, t('stretch_shared')) : null), stage);
  } catch (e) {
    box.append(errorBox(e));
  }
  return box;
}

// cogPair decodes the clip COGs stored beside two quick-looks (same name, .tif) when both
// have a true-colour composite and the same size, else says why the PNGs are shown instead.
async function cogPair(before: Artifact, after: Artifact, arts: Artifact[]): Promise<Raster[] | string> {
  const cogs = [before, after].map((png) => arts.find((a) => a.name === png.name.replace(/\.png$/, '.tif')));
  if (cogs.some((c) => !c)) return 'no clip COG beside the quick-looks';
  try {
    const rs = await Promise.all(cogs.map(async (c) => decodeCOG(await evidenceBytes(c!.key))));
    if (rs.some((r) => !bandsFor(r, 'true'))) return 'no red, green and blue bands: ' + rs.map((r) => r.descs.join(' ')).join(' / ');
    return rs;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    return 'the clip COGs cannot be decoded: ' + String((e as Error).message || e);
  }
}

// outlinesOn gives the rings of a finding's geometry (GeoJSON, WGS84) in r's pixels, for
// drawing it outlined as the quick-looks are; none when r's CRS is not one proj.ts covers.
function outlinesOn(r: Raster, geometry: any): [number, number][][] {
  const code = r.epsg ? projectionCode(r.epsg) : null;
  if (!code || !geometry) return [];
  const polys: number[][][][] = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
  const rings = polys.flat().map((ring) => ring.map((c) => transform(c, 'EPSG:4326', code) as [number, number]));
  return pixelRings(r, rings);
}

function artifactTable(arts: Artifact[], urls: string[]): HTMLElement {
  return h('table', { class: 'table evidence' },
    h('thead', {}, h('tr', {}, ['', t('artifact'), t('size'), t('sha256'), ''].map((c) => h('th', {}, c)))),
    h('tbody', {}, arts.map((a) => h('tr', {},
      h('td', {}, a.media_type === 'image/png' ? thumb(a.key, urls) : null),
      h('td', {}, a.name, h('div', { class: 'muted small' }, a.media_type)),
      h('td', {}, fmtBytes(a.size)),
      h('td', {}, copyable(a.sha256)),
      h('td', {}, action(t('download'), () => download(a.key), { class: 'secondary' }))))));
}

function thumb(key: string, urls: string[]): HTMLElement {
  const img = h('img', { class: 'thumb', alt: '' });
  evidenceURL(key).then((u) => { urls.push(u); img.src = u; }, () => img.replaceWith(h('span', { class: 'muted' }, '—')));
  return img;
}

function clipSection(parcels: EvParcel[], urls: string[]): HTMLElement {
  const clips = parcels.flatMap((p) => p.clips);
  if (!clips.length) return h('span');
  return h('div', { class: 'card' }, h('h2', {}, t('clips')),
    h('table', { class: 'table evidence' },
      h('thead', {}, h('tr', {}, ['', t('parcel'), t('capture'), t('size'), t('sha256'), ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, clips.map((c) => h('tr', {},
        h('td', {}, thumb(c.quicklook_key, urls)),
        h('td', {}, c.parcel_id),
        h('td', {}, captureLabel(c.capture_id), h('div', { class: 'muted small' }, `${c.width}×${c.height}, ${c.valid_pixels} ${t('pixels')}`)),
        h('td', {}, fmtBytes(c.cog_bytes)),
        h('td', {}, copyable(c.cog_sha256)),
        h('td', {}, action('COG', () => download(c.cog_key), { class: 'secondary' }), action('PNG', () => download(c.quicklook_key), { class: 'secondary' })))))));
}

// ---------------------------------------------------------------- inspections

async function renderInspections(el: HTMLElement, uscc: string): Promise<void> {
  try {
    const res = await api<{ inspections: any[] }>('GET', '/api/v1/inspections?uscc=' + encodeURIComponent(uscc));
    clear(el, h('h2', {}, t('inspections')));
    if (!res.inspections.length) {
      el.append(h('p', { class: 'empty' }, t('no_inspections')));
      return;
    }
    for (const ins of res.inspections) el.append(await inspectionCard(ins, () => renderInspections(el, uscc)));
  } catch (e) {
    clear(el, h('h2', {}, t('inspections')), errorBox(e));
  }
}

async function inspectionCard(ins: any, refresh: () => void): Promise<HTMLElement> {
  const tl = await api<{ steps: any[] }>('GET', `/api/v1/inspections/${ins.id}/timeline`);
  const facts = await monitoringFacts(ins.id);
  return h('article', { class: 'inspection', dataset: { id: ins.id, status: ins.status } },
    h('h3', {}, `#${ins.id} `, h('span', { class: 'status ins-' + ins.status }, tk('ins_', ins.status)), ' ', h('span', { class: 'muted small' }, t('opened_at'), ' ', fmtDate(ins.opened_at, true))),
    ins.warnings?.length ? h('ul', { class: 'warnings' }, ins.warnings.map((w: any) => h('li', { title: w.message }, warningText(w),
      w.severity ? h('span', { class: 'tag' }, tk('sev_', w.severity)) : null,
      w.confirmations ? h('span', { class: 'muted small' }, ' ', t('confirmations', { n: w.confirmations })) : null))) : null,
    selfCheckFacts(ins),
    factsBox(facts),
    h('h4', {}, t('timeline')),
    h('ol', { class: 'timeline' }, tl.steps.map((s) => h('li', {},
      h('time', {}, fmtDate(s.at, true)), ' ', h('strong', { title: s.action }, tk('step_', s.action)), ' — ', t('step_by', { actor: s.actor, role: tk('role_', s.role) }),
      stepDetail(s.detail, ins.id), h('div', { class: 'muted small' }, t('audit_hash'), ' ', h('code', {}, String(s.hash || '').slice(0, 16)))))),
    h('h4', {}, t('actions')),
    await inspectionActions(ins, refresh, uploadedProofs(tl.steps), facts?.unreported_exceedance));
}

// uploadedProofs are the proof documents uploaded for an inspection, from its steps.
function uploadedProofs(steps: any[]): Proof[] {
  const out: Proof[] = [];
  for (const s of steps) {
    if (s.action !== 'inspection.proof_upload') continue;
    try {
      const d = JSON.parse(s.detail);
      if (d && d.key && d.sha256) out.push(d as Proof);
    } catch {
      /* a step without a readable detail names no proof */
    }
  }
  return out;
}

// proofLink offers an audited download of a proof document of inspection id.
function proofLink(id: number, name: string): HTMLElement | null {
  return can('GET /api/v1/ui/inspections/{id}/proofs/{name}') ? action(t('download'), () => downloadProof(id, name), { class: 'secondary proof-download' }) : null;
}

// reportForm is the self-check report with its proof: files are uploaded through the API one
// by one as chosen, each listed with its size and SHA-256, and the ticked ones are cited.
// It submits to path ("/report", or "/report/amend" to replace a report not yet reviewed).
function reportForm(ins: any, known: Proof[], post: (p: string, body: any) => Promise<void>, path = '/report'): HTMLElement {
  const amend = path !== '/report';
  const proofs = [...known];
  const list = h('ul', { class: 'proof-list' });
  const render = () => clear(list, proofs.map((p) => h('li', { dataset: { sha256: p.sha256, name: p.name } },
    h('label', {}, h('input', { type: 'checkbox', name: 'proof_key', value: p.key, checked: true }), ' ', h('strong', {}, p.name)), ' ',
    h('span', { class: 'muted small' }, fmtBytes(p.size)), ' ', copyable(p.sha256))));
  render();
  const files = h('input', {
    type: 'file', name: 'files', multiple: true, class: 'proof-files',
    accept: '.pdf,.png,.jpg,.jpeg,.tif,.tiff,application/pdf,image/png,image/jpeg,image/tiff',
  });
  const out = h('div', { class: 'upload-out' });
  const upload = h('button', { type: 'button', class: 'secondary proof-upload' }, t('proof_upload'));
  upload.addEventListener('click', async () => {
    const chosen = [...(files.files || [])];
    clear(out);
    if (!chosen.length) {
      out.append(h('p', { class: 'muted' }, t('proof_pick')));
      return;
    }
    upload.disabled = true;
    try {
      for (const f of chosen) {
        try {
          proofs.push(await uploadProof(ins.id, f));
          render();
        } catch (e) {
          out.append(h('div', { class: 'proof-error' }, h('strong', {}, t('proof_failed', { name: f.name })), errorBox(e)));
        }
      }
      files.value = '';
    } finally {
      upload.disabled = false;
    }
  });
  const fields: HTMLElement[] = [field(t('report_text'), h('textarea', { name: 'text', required: true, rows: 3, value: amend ? ins.report?.text || '' : '' }))];
  if (can('PUT /api/v1/ui/inspections/{id}/proofs/{name}')) {
    fields.push(h('fieldset', { class: 'proofs' }, h('legend', {}, t('proofs')), h('p', { class: 'muted small' }, t('proof_help')),
      files, ' ', upload, out, list));
  }
  return form(fields, t(amend ? 'act_amend' : 'act_report'), (_v, f) => {
    const keys = [...f.querySelectorAll<HTMLInputElement>('input[name=proof_key]:checked')].map((x) => x.value);
    return post(path, { text: (f.elements.namedItem('text') as HTMLTextAreaElement).value, proof_keys: keys });
  }, { class: 'inline-form ' + (amend ? 'act-amend' : 'act-report') });
}

// inspectionActions offers the steps that the inspection's state admits and the role may take.
async function inspectionActions(ins: any, refresh: () => void, proofs: Proof[], unreported?: boolean): Promise<HTMLElement> {
  const base = `/api/v1/inspections/${ins.id}`;
  const post = (p: string, body: any) => api('POST', base + p, { version: ins.version, ...body }).then(refresh);
  const st = ins.status;
  const out: HTMLElement[] = [];
  const allowed = (p: string) => can('POST /api/v1/inspections/{id}' + p);
  if (st !== 'closed') {
    if (['open'].includes(st) && allowed('/self-check'))
      out.push(form([field(t('deadline'), h('input', { type: 'date', name: 'deadline' }))], t('act_self_check'),
        (v) => post('/self-check', v.deadline ? { deadline: v.deadline } : {}), { class: 'inline-form act-self-check' }));
    if (st === 'self_check_requested' && allowed('/report'))
      out.push(reportForm(ins, proofs, post));
    if (st === 'self_check_requested') out.push(...extensionActions(ins, post, allowed));
    if (st === 'report_submitted' && allowed('/report/amend')) {
      // The report already cited its proof: amending keeps it ticked unless unticked.
      const cited = (ins.report?.proof_keys || []).map((k: string) => proofs.find((p) => p.key === k)).filter(Boolean) as Proof[];
      out.push(h('details', { class: 'amend' }, h('summary', {}, t('act_amend')), reportForm(ins, [...cited, ...proofs.filter((p) => !cited.includes(p))], post, '/report/amend')));
    }
    if (st === 'report_submitted' && allowed('/report/withdraw'))
      out.push(form([field(t('reason'), h('input', { name: 'reason' }))], t('act_withdraw'), (v) => post('/report/withdraw', { reason: v.reason }),
        { class: 'inline-form act-withdraw' }));
    if (st === 'report_submitted' && allowed('/review')) {
      const notes = h('input', { name: 'notes', required: true });
      out.push(form([field(t('notes'), notes), select('outcome', [['close', t('act_review_close')], ['site_visit', t('act_review_visit')]])],
        t('submit'), (v) => post('/review', { outcome: v.outcome, notes: v.notes }), { class: 'inline-form act-review' }));
    }
    if (['open', 'self_check_requested', 'report_submitted'].includes(st) && allowed('/site-visit'))
      out.push(form([
        field(t('trigger'), select('trigger', ['complaint', 'media_report', 'referral', 'offsite_anomaly', 'routine'].map((x) => [x, tk('tr_', x)] as [string, string]))),
        field(t('reason'), h('input', { name: 'reason', required: true }))],
      t('act_site_visit'), (v) => post('/site-visit', { trigger: v.trigger, reason: v.reason }), { class: 'inline-form act-site-visit' }));
    if (st === 'site_visit_requested' && allowed('/approve'))
      out.push(action(t('act_approve'), () => post('/approve', {}), { id: 'act-approve' }));
    if (st === 'site_visit_approved' && allowed('/site-visit/record')) {
      const cfg = await api<any>('GET', '/api/v1/config');
      const items: string[] = cfg.site_checklist || [];
      out.push(form(items.map((it, i) => field(tk('chk_', it), select('r' + i, ['compliant', 'non_compliant', 'not_applicable'].map((x) => [x, tk('res_', x)] as [string, string])))),
        t('act_record'), (v) => post('/site-visit/record', { checklist: items.map((it, i) => ({ item: it, result: v['r' + i] })) }), { class: 'inline-form act-record' }));
    }
    if (allowed('/close')) {
      const flags = ['first_violation', 'minor', 'promptly_corrected', 'self_reported', 'non_wilful', 'fixed_in_time', 'harm', 'unreported_exceedance', 'malicious', 'suspected_crime'];
      // An exceedance the enterprise did not report in time is offered as such (四.10).
      const preset = (f: string) => !!unreported && f === 'unreported_exceedance';
      const flagBox = h('fieldset', { class: 'flags', hidden: !unreported }, flags.map((f) => h('label', {}, h('input', { type: 'checkbox', name: 'v_' + f, value: 'true', checked: preset(f) }), tk('v_', f))));
      const vio = h('input', { type: 'checkbox', name: 'violation', value: 'true', checked: !!unreported, onchange: () => (flagBox.hidden = !vio.checked) });
      out.push(form([field(t('close_note'), h('input', { name: 'note', required: true })), h('label', {}, vio, t('violation')), flagBox],
        t('act_close'), (v) => {
          const body: any = { note: v.note };
          if (v.violation) body.violation = Object.fromEntries(flags.map((f) => [f, v['v_' + f] === 'true']));
          return post('/close', body);
        }, { class: 'inline-form act-close' }));
    }
  }
  return h('div', { class: 'actions' }, out.length ? out : h('p', { class: 'muted no-actions' }, t('no_actions')));
}

// detailValues names the dictionary prefix of an audit detail's coded values.
const detailValues: Record<string, string> = {
  trigger: 'tr_', category: 'rc_', removal_category: 'rc_', path: 'path_', severity: 'sev_', kind: 'kind_', class: 'cls_',
  level: 'lvl_', role: 'role_', pipeline: 'cap_', result: 'res_',
};

// stepDetail shows an audit entry's detail as "name: value" lines, the JSON under them; a
// proof document uploaded or cited is shown with its download.
function stepDetail(detail: string, inspection: number): HTMLElement | null {
  if (!detail || detail === '{}' || detail === 'null') return null;
  let d: any;
  try {
    d = JSON.parse(detail);
  } catch {
    return h('div', { class: 'muted small detail' }, detail);
  }
  const inner = d && typeof d.detail === 'object' && d.detail ? d.detail : d;
  const proofs: HTMLElement[] = [];
  if (inner && typeof inner.key === 'string' && typeof inner.sha256 === 'string' && inner.name) {
    proofs.push(h('li', { class: 'proof', dataset: { sha256: inner.sha256 } }, h('strong', {}, inner.name), ' ',
      h('span', { class: 'muted small' }, fmtBytes(Number(inner.size) || 0)), ' ', copyable(inner.sha256), ' ', proofLink(inspection, inner.name)));
  }
  for (const k of Array.isArray(inner?.proof_keys) ? inner.proof_keys : []) {
    const name = String(k).split('/').pop() || String(k);
    proofs.push(h('li', { class: 'proof cited' }, t('proof_cited'), ' ', h('strong', {}, name), ' ', proofLink(inspection, name)));
  }
  const lines = Object.entries(inner || {}).filter(([k, v]) => !['version', 'status'].includes(k) && v !== null && typeof v !== 'object')
    .map(([k, v]) => h('li', {}, h('span', { class: 'muted' }, tk('field_', k) + ': '),
      /^\d{4}-\d\d-\d\dT/.test(String(v)) ? fmtDate(String(v), true) : detailValues[k] ? tk(detailValues[k], String(v)) : String(v)));
  return h('div', { class: 'small detail' }, proofs.length ? h('ul', { class: 'proofs' }, proofs) : null, lines.length && !proofs.length ? h('ul', {}, lines) : null,
    h('details', {}, h('summary', { class: 'muted' }, 'JSON'), h('code', {}, detail)));
}

// parcelLayerTitle names a layer in the map's layer switcher.
function parcelLayerTitle<L extends VectorLayer<any>>(l: L, key: string): L {
  l.set('title', t(key));
  return l;
}

// selfCheckFacts shows the self-check's deadline, the report (when, late, amended), the
// reports withdrawn, and the extensions asked for with their decisions.
function selfCheckFacts(ins: any): HTMLElement | null {
  if (!ins.self_check_deadline && !ins.report && !ins.extensions?.length) return null;
  const r = ins.report;
  return h('dl', { class: 'facts self-check' },
    ins.self_check_deadline ? [h('dt', {}, t('deadline')), h('dd', { class: 'deadline' }, fmtDate(ins.self_check_deadline, true))] : null,
    r ? [h('dt', {}, t('sc_report')), h('dd', { class: 'report' }, fmtDate(r.submitted_at, true), r.late ? h('span', { class: 'tag bad' }, t('sc_late')) : null,
      r.amendments ? h('span', { class: 'tag' }, t('sc_amended', { n: r.amendments })) : null, h('div', { class: 'small' }, r.text))] : null,
    ins.withdrawn_reports ? [h('dt', {}, t('sc_withdrawn')), h('dd', {}, String(ins.withdrawn_reports))] : null,
    ins.extensions?.length ? [h('dt', {}, t('sc_extensions')), h('dd', {}, h('ul', { class: 'extensions' }, ins.extensions.map((e: any) =>
      h('li', { dataset: { decision: e.decision } }, t('sc_extension_v', { until: fmtDate(e.until), reason: e.reason }), ' ',
        h('span', { class: 'tag' + (e.decision === 'refused' ? ' bad' : '') }, tk('ext_', e.decision)), e.note ? ' ' + e.note : ''))))] : null);
}

// extensionActions: while a self-check is requested, the enterprise may ask for a later
// deadline (one request at a time); the inspector grants or refuses a request waiting.
function extensionActions(ins: any, post: (p: string, body: any) => Promise<void>, allowed: (p: string) => boolean): HTMLElement[] {
  const exts: any[] = ins.extensions || [];
  const pending = exts.length && exts[exts.length - 1].decision === 'pending';
  const out: HTMLElement[] = [];
  if (!pending && allowed('/extension') && ins.self_check_deadline) {
    // A week past the deadline, as a date in China Standard Time.
    const week = new Date(new Date(ins.self_check_deadline).getTime() + 8 * 3600e3 + 7 * 86400e3).toISOString().slice(0, 10);
    out.push(form([field(t('sc_until'), h('input', { type: 'date', name: 'until', value: week, required: true })),
      field(t('reason'), h('input', { name: 'reason', required: true }))],
    t('act_extension'), (v) => post('/extension', { until: v.until, reason: v.reason }), { class: 'inline-form act-extension' }));
  }
  if (pending && allowed('/extension/decide'))
    out.push(form([select('grant', [['true', t('act_grant')], ['false', t('act_refuse')]]), field(t('notes'), h('input', { name: 'note', 'data-field': 'note' }))],
      t('submit'), (v) => post('/extension/decide', { grant: v.grant === 'true', note: v.note }), { class: 'inline-form act-decide-extension' }));
  return out;
}

// citedFindings are the findings the enterprise's inspections cite, each artifact's key
// replaced by the path through which the inspection lets the enterprise read it.
async function citedFindings(uscc: string): Promise<Finding[]> {
  const res = await api<{ inspections: any[] }>('GET', '/api/v1/inspections?uscc=' + encodeURIComponent(uscc));
  const seen = new Map<string, Finding>();
  for (const ins of res.inspections) {
    const fc = await api<any>('GET', `/api/v1/inspections/${ins.id}/evidence`);
    for (const ft of fc.features || []) {
      const p = ft.properties || {};
      const id = String(p.finding_id ?? ft.id);
      if (seen.has(id)) continue;
      const downloads: Record<string, string> = p.downloads || {};
      seen.set(id, {
        id, parcel_id: p.parcel_id, capture_ids: p.capture_ids || [], kind: p.kind, class: p.class, status: p.status, score: p.score,
        area_m2: p.area_m2, severity: p.severity, pipeline: p.pipeline, pipeline_hash: p.pipeline_hash, detected_at: p.detected_at,
        provenance: p.provenance, geometry: ft.geometry,
        artifacts: (p.artifacts || []).map((a: Artifact) => ({ ...a, key: downloads[a.name] || a.key })),
      });
    }
  }
  return [...seen.values()].sort((a, b) => b.detected_at.localeCompare(a.detected_at));
}
