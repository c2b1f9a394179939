// Surveys: draw or pick a zone, choose capture kinds, window and pipeline, queue it, and
// watch its progress to the end.
import VectorLayer from 'ol/layer/Vector';
import VectorSource from 'ol/source/Vector';
import Draw from 'ol/interaction/Draw';
import type Feature from 'ol/Feature';
import { Fill, Stroke, Style } from 'ol/style';
import { api, can, currentUser } from '../api';
import { captureLabel } from '../captures';
import { surveyResults } from './surveyresults';
import { fmtDate, t, tk } from '../i18n';
import { fitTo, geojson, legend, newMap, parcelStyle, uiConfig } from '../map';
import { action, clear, errorBox, field, form, h, loading, select } from '../ui';

const zoneStyle = new Style({ stroke: new Stroke({ color: '#0a7d2c', width: 3, lineDash: [8, 4] }), fill: new Fill({ color: 'rgba(10,125,44,0.12)' }) });
const terminal = ['finished', 'error', 'canceled'];

export async function surveyNewPage(app: HTMLElement): Promise<() => void> {
  const mayQueue = can('POST /api/v1/surveys');
  const mapEl = h('div', { class: 'map', id: 'survey-map' });
  const zoneSrc = new VectorSource<Feature>();
  const parcelSrc = new VectorSource<Feature>();
  const map = newMap(mapEl, [new VectorLayer({ source: parcelSrc, style: parcelStyle }), new VectorLayer({ source: zoneSrc, style: zoneStyle })]);
  const draw = new Draw({ source: zoneSrc, type: 'Polygon' });
  draw.on('drawstart', () => { zoneSrc.clear(); zonePick.value = ''; });
  draw.on('drawend', () => setTimeout(() => (mapEl.dataset.zone = 'drawn')));
  map.addInteraction(draw);

  const zonePick = select('zone_id', [['', '—']], '', { id: 'zone-pick' });
  let zones: any[] = [];
  if (can('GET /api/v1/zones')) {
    api<{ zones: any[] }>('GET', '/api/v1/zones').then((r) => {
      zones = r.zones || [];
      zones.forEach((z) => zonePick.append(h('option', { value: String(z.id) }, z.name)));
    }, () => { /* zones are optional: drawing works without them */ });
  }
  zonePick.addEventListener('change', () => {
    zoneSrc.clear();
    const z = zones.find((x) => String(x.id) === zonePick.value);
    if (z && z.geometry) {
      zoneSrc.addFeature(geojson.readFeature({ type: 'Feature', geometry: z.geometry, properties: {} }) as Feature);
      fitTo(map, [zoneSrc]);
      mapEl.dataset.zone = 'picked';
    }
  });

  // Parcels for orientation (a base map is optional).
  api<any>('GET', '/ogc/collections/parcels/items?limit=1000').then((fc) => {
    parcelSrc.addFeatures(geojson.readFeatures(fc) as Feature[]);
    mapEl.dataset.parcels = String(parcelSrc.getFeatures().length);
    fitTo(map, [parcelSrc]);
  }, () => { /* without parcels the map is still usable for drawing */ });

  const cfg = uiConfig();
  const today = new Date();
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  const yearAgo = new Date(today.getTime() - 365 * 86400e3);
  const tomorrow = new Date(today.getTime() + 86400e3);
  const kinds = h('fieldset', { class: 'kinds' }, h('legend', {}, t('survey_kinds')),
    cfg.capture_kinds.map((k, i) => h('label', {}, h('input', { type: 'checkbox', name: 'kind:' + k, value: k, checked: i === 0 }), tk('cap_', k))));
  const f = form([
    field(t('survey_name'), h('input', { name: 'name', maxlength: 200 })),
    field(t('survey_pick_zone'), zonePick),
    kinds,
    field(t('survey_start'), h('input', { type: 'date', name: 'start', value: iso(yearAgo), required: true })),
    field(t('survey_end'), h('input', { type: 'date', name: 'end', value: iso(tomorrow), required: true })),
    field(t('pipeline'), select('pipeline', cfg.pipelines.map((p) => [p, p] as [string, string]), cfg.pipelines.includes('sentinel2') ? 'sentinel2' : '')),
  ], t('survey_queue'), async (v) => {
    // The window's dates are midnight in China Standard Time.
    const day = (d: string) => (d ? d + 'T00:00:00+08:00' : '');
    const body: any = { name: v.name || undefined, start: day(v.start), end: day(v.end), pipeline: v.pipeline,
      kinds: Object.keys(v).filter((k) => k.startsWith('kind:')).map((k) => v[k]) };
    if (zonePick.value && zoneSrc.getFeatures().length) body.zone_id = Number(zonePick.value);
    else if (zoneSrc.getFeatures().length) body.zone = JSON.parse(geojson.writeGeometry(zoneSrc.getFeatures()[0].getGeometry()!, { decimals: 7 }));
    else throw new Error(t('survey_no_zone'));
    const sv = await api<any>('POST', '/api/v1/surveys', body);
    location.hash = '#/surveys/' + sv.id;
  }, { id: 'survey-form' });
  if (!mayQueue) f.querySelectorAll('input,select,button').forEach((x) => ((x as HTMLInputElement).disabled = true));

  app.append(h('h1', {}, t('survey_title')),
    !mayQueue ? h('div', { class: 'error', role: 'alert', id: 'survey-forbidden' }, t('survey_forbidden', { role: tk('role_', currentUser()!.role) })) : '',
    h('div', { class: 'two-col' },
      h('section', { class: 'card' }, h('h2', {}, t('survey_zone')), h('p', { class: 'muted small' }, t('survey_draw_help')), mapEl,
        h('button', { type: 'button', class: 'secondary', onclick: () => { zoneSrc.clear(); zonePick.value = ''; delete mapEl.dataset.zone; } }, t('survey_clear')), legend()),
      h('section', { class: 'card' }, f, recent())));
  return () => map.setTarget(undefined);
}

// recent lists the latest surveys from the API, newest first, with their status and progress.
function recent(): HTMLElement {
  const box = h('div', { class: 'recent', id: 'survey-recent' }, h('h3', {}, t('sv_recent')), loading());
  api<any>('GET', '/api/v1/surveys?limit=20').then((r) => {
    box.replaceChildren(h('h3', {}, t('sv_recent')), r.surveys.length === 0 ? h('p', { class: 'muted small' }, t('sv_none')) :
      h('ul', {}, r.surveys.map((x: any) => h('li', {},
        h('a', { href: '#/surveys/' + x.id }, '#' + x.id, ' ', x.name || ''), ' ',
        h('span', { class: 'status sv-' + x.status }, tk('sv_', x.status)), ' ',
        h('span', { class: 'muted small' }, x.progress.done + '/' + x.progress.total, ' · ', fmtDate(x.created_at, true))))));
  }, (e) => box.replaceChildren(h('h3', {}, t('sv_recent')), errorBox(e)));
  return box;
}

export async function surveyPage(app: HTMLElement, [id]: string[]): Promise<() => void> {
  const head = h('div', {}, loading());
  const parts = h('div', { id: 'survey-parts' });
  const mapEl = h('div', { class: 'map small-map', id: 'survey-zone-map' });
  app.append(h('h1', {}, t('nav_survey'), ' #', id, ' ', h('a', { href: '#/surveys/new', class: 'button secondary' }, t('sv_new'))), head, mapEl, parts);
  const zoneSrc = new VectorSource<Feature>();
  const map = newMap(mapEl, [new VectorLayer({ source: zoneSrc, style: zoneStyle })]);
  let timer = 0;
  let stopped = false;
  let results: HTMLElement | null = null;
  const poll = async () => {
    try {
      const sv = await api<any>('GET', '/api/v1/surveys/' + id);
      if (!zoneSrc.getFeatures().length && sv.zone) {
        zoneSrc.addFeature(geojson.readFeature({ type: 'Feature', geometry: sv.zone, properties: {} }) as Feature);
        fitTo(map, [zoneSrc]);
      }
      const p = sv.progress || {};
      const finished = (p.done || 0) + (p.failed || 0) + (p.canceled || 0);
      const pct = p.total ? Math.round((100 * finished) / p.total) : terminal.includes(sv.status) ? 100 : 0;
      clear(head, h('section', { class: 'card', id: 'survey-status', dataset: { status: sv.status } },
        h('p', {}, h('strong', {}, sv.name || ''), ' ', h('span', { class: 'status sv-' + sv.status }, tk('sv_', sv.status)), ' · ',
          tk('cap_', sv.pipeline), ' · ', (sv.kinds || []).map((k: string) => tk('cap_', k)).join('、'), ' · ', fmtDate(sv.window_start), ' – ', fmtDate(sv.window_end)),
        h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct, id: 'survey-progress' },
          h('div', { class: 'bar' + (sv.status === 'error' ? ' bad' : ''), style: `width:${pct}%` }), h('span', {}, `${pct}%`)),
        h('p', { class: 'muted' }, t('sv_counts', { total: p.total || 0, done: p.done || 0, failed: p.failed || 0, running: p.running || 0, queued: p.queued || 0, clips: p.clips || 0, findings: p.findings || 0 }),
          ' · ', t('sv_parcels', { n: sv.parcels || 0 })),
        p.total === 0 ? h('p', { class: 'muted' }, t('sv_empty')) : null,
        sv.error ? errorBox(new Error(sv.error)) : null,
        h('div', { class: 'actions' },
          !terminal.includes(sv.status) && can('POST /api/v1/surveys/{id}/cancel') ? action(t('sv_cancel'), async () => { await api('POST', `/api/v1/surveys/${id}/cancel`); }) : null,
          (p.failed || 0) > 0 && can('POST /api/v1/surveys/{id}/retry') ? action(t('sv_retry'), async () => { await api('POST', `/api/v1/surveys/${id}/retry`); schedule(); }) : null)));
      const pr = await api<{ parts: any[] }>('GET', `/api/v1/surveys/${id}/parts`);
      clear(parts, h('h2', {}, t('sv_parts')), h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, [t('capture'), t('part_state'), t('clips'), t('findings'), ''].map((c) => h('th', {}, c)))),
        h('tbody', {}, (pr.parts || []).map((x) => h('tr', {},
          h('td', {}, captureLabel(x.capture_id), x.batch ? ` / ${x.batch}` : ''), h('td', {}, tk('sv_', x.status) || x.status),
          h('td', {}, x.clips), h('td', {}, x.findings), h('td', { class: 'small' }, x.error || ''))))));
      if (!terminal.includes(sv.status)) schedule();
      else if (!results && zoneSrc.getFeatures().length) {
        results = surveyResults(map, zoneSrc, (pr.parts || []).map((x) => Number(x.capture_id)).filter((n) => n > 0));
        parts.after(results);
      }
    } catch (e) {
      clear(head, errorBox(e, poll));
    }
  };
  const schedule = () => { if (!stopped) { clearTimeout(timer); timer = window.setTimeout(poll, 500); } };
  await poll();
  return () => { stopped = true; clearTimeout(timer); map.setTarget(undefined); };
}
