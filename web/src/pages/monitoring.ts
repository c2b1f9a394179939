// Automatic monitoring on the enterprise page: its monitoring points with a series chart of
// each pollutant (the events shaded), the events found in the data (findings of kind
// monitoring, with their chart and the hashes of the frames they rest on), its exceedances
// with whether it reported them itself in time, its permit limits, and the forms the user's
// role allows: register a point, set a limit, report an exceedance (the enterprise).
import { api, blobURL as fetchBlob, can, evidenceURL } from '../api';
import { fmtDate, t, tk } from '../i18n';
import { action, clear, copyable, errorBox, field, form, h, loading, select } from '../ui';
import { msgText } from '../messages';

interface Point { mn: string; uscc: string; outlet: string; name?: string; medium: string; lon: number; lat: number; version: number }
interface Limit { outlet: string; pollutant: string; hourly?: number; daily?: number; o2_ref?: number; load_kg_day?: number; basis?: string }
interface MonEvent { id: string; class: string; severity?: string; detected_at: string; properties: any; artifacts: { name: string; key: string; sha256: string }[] }
interface Exceedance { finding_id: string; mn: string; pollutant: string; started_at: string; report_due: string; status: string }
interface Monitoring { points: Point[]; limits: Limit[]; events: MonEvent[]; exceedances: Exceedance[]; reports: any[] }

const gasPollutants = ['so2', 'nox', 'dust', 'co', 'hcl', 'nmhc'];
const waterPollutants = ['cod', 'nh3n', 'tp', 'tn', 'ph'];

// monitoringSection fills el with the enterprise's monitoring; urls collects the object URLs
// made, for the page to revoke.
export async function monitoringSection(el: HTMLElement, uscc: string, urls: string[]): Promise<void> {
  clear(el, h('h2', {}, t('mon_title')), loading());
  let m: Monitoring;
  try {
    m = await api<Monitoring>('GET', `/api/v1/enterprises/${encodeURIComponent(uscc)}/monitoring`);
  } catch (e) {
    clear(el, h('h2', {}, t('mon_title')), errorBox(e, () => monitoringSection(el, uscc, urls)));
    return;
  }
  const refresh = () => monitoringSection(el, uscc, urls);
  clear(el, h('h2', {}, t('mon_title')));
  if (!m.points.length) el.append(h('p', { class: 'empty' }, t('mon_no_points')));
  for (const p of m.points) el.append(pointCard(p, m, urls));
  el.append(h('h3', {}, t('mon_events')), eventTable(m.events, m.exceedances, urls));
  el.append(h('h3', {}, t('mon_limits')), limitTable(m.limits));
  if (can('POST /api/v1/enterprises/{uscc}/monitoring/reports') && m.points.length) el.append(reportForm(uscc, m.points, refresh));
  if (can('PUT /api/v1/enterprises/{uscc}/monitoring/limits/{outlet}/{pollutant}')) el.append(limitForm(uscc, refresh));
  if (can('POST /api/v1/monitoring/points')) el.append(pointForm(uscc, refresh));
}

// pointCard shows a point and the chart of one of its pollutants around its latest event.
function pointCard(p: Point, m: Monitoring, urls: string[]): HTMLElement {
  const pols = p.medium === 'water' ? waterPollutants : gasPollutants;
  const limited = m.limits.filter((l) => l.outlet === p.outlet).map((l) => l.pollutant);
  const first = limited[0] || pols[0];
  const evs = m.events.filter((e) => e.properties?.mn === p.mn);
  // The chart's period: the 4 days around the latest event, or the last 3 days.
  const latest = evs.length ? new Date(evs[0].properties.start) : null;
  const to = latest ? new Date(latest.getTime() + 2 * 86400e3) : new Date();
  const from = new Date(to.getTime() - (latest ? 4 : 3) * 86400e3);
  const img = h('img', { class: 'mon-chart', alt: t('mon_chart'), width: 800, height: 300 });
  const out = h('div', { class: 'chart-out' });
  const show = async (pol: string) => {
    clear(out);
    try {
      const u = await fetchBlob(`/api/v1/monitoring/points/${encodeURIComponent(p.mn)}/chart.png?pollutant=${pol}&from=${from.toISOString()}&to=${to.toISOString()}`);
      urls.push(u);
      img.src = u;
    } catch (e) {
      out.append(errorBox(e));
    }
  };
  const sel = select('pollutant', pols.map((x) => [x, x] as [string, string]), first, { onchange: (ev: Event) => show((ev.target as HTMLSelectElement).value) });
  void show(first);
  return h('article', { class: 'mon-point', dataset: { mn: p.mn } },
    h('h4', {}, h('code', {}, p.mn), ' · ', p.outlet, ' · ', tk('mon_medium_', p.medium), p.name ? ` · ${p.name}` : '',
      h('span', { class: 'muted small' }, ` ${p.lon.toFixed(5)}, ${p.lat.toFixed(5)} · ${t('mon_events_n', { n: evs.length })}`)),
    field(t('mon_pollutant'), sel), img, out, can('GET /api/v1/monitoring/points/{mn}/data-requests') ? dataRequests(p.mn) : '');
}

function eventTable(events: MonEvent[], ex: Exceedance[], urls: string[]): HTMLElement {
  if (!events.length) return h('p', { class: 'empty' }, t('mon_no_events'));
  const status = new Map(ex.map((e) => [e.finding_id, e]));
  return h('table', { class: 'mon-events' },
    h('thead', {}, h('tr', {}, [t('mon_period'), t('mon_rule'), 'MN', t('mon_pollutant'), t('severity'), t('mon_summary'), t('mon_reported'), t('mon_frames'), t('mon_chart')].map((x) => h('th', {}, x)))),
    h('tbody', {}, events.map((e) => {
      const x = status.get(e.id);
      const chart = e.artifacts.find((a) => a.name === 'chart.png');
      const cell = h('td', {});
      if (chart) {
        const b = h('button', { type: 'button', class: 'secondary' }, t('mon_show'));
        b.addEventListener('click', async () => {
          try {
            const u = await evidenceURL(chart.key);
            urls.push(u);
            cell.replaceChildren(h('img', { src: u, class: 'mon-chart', alt: e.class }), copyable(chart.sha256));
          } catch (err) {
            cell.append(errorBox(err));
          }
        });
        cell.append(b);
      }
      return h('tr', { dataset: { id: e.id, rule: e.class } },
        h('td', {}, fmtDate(e.properties?.start, true), ' – ', fmtDate(e.properties?.end, true)),
        h('td', { title: e.properties?.standard || '' }, tk('rule_', e.class)),
        h('td', {}, h('code', {}, e.properties?.mn || '')),
        h('td', {}, e.properties?.pollutant || ''),
        h('td', {}, e.severity || ''),
        h('td', {}, msgText(e.properties?.summary_message, e.properties?.summary || ''), e.class === 'gap_while_running' ? requestDataButton(e) : ''),
        h('td', { class: x ? 'rep-' + x.status : '' }, x ? tk('rep_', x.status) : '', x ? h('div', { class: 'muted small' }, t('mon_due'), ' ', fmtDate(x.report_due, true)) : null),
        h('td', {}, h('details', {}, h('summary', {}, String((e.properties?.frames || []).length)),
          (e.properties?.frames || []).map((f: string) => h('div', {}, copyable(f, 16))))),
        cell);
    })));
}

// requestDataButton asks the logger of a gap event's point to send the hour data of the gap
// again (HJ 212-2017 data request, CN 2061 with BeginTime and EndTime: the gap's first and
// last hour); the receiver sends it while the logger is connected.
function requestDataButton(e: MonEvent): HTMLElement | string {
  const mn = e.properties?.mn;
  if (!mn || !can('POST /api/v1/monitoring/points/{mn}/data-requests')) return '';
  const out = h('div', { class: 'small' });
  return h('div', {}, action(t('mon_request_data'), async () => {
    const end = new Date(new Date(e.properties.end).getTime() - 3600e3);
    const r = await api<{ id: number }>('POST', `/api/v1/monitoring/points/${encodeURIComponent(mn)}/data-requests`,
      { cn: '2061', begin_time: e.properties.start, end_time: end.toISOString(), finding_id: e.id });
    clear(out, h('span', { class: 'ok request-queued', dataset: { id: String(r.id) } }, t('mon_request_queued')));
  }, { class: 'secondary request-data' }), out);
}

// DataRequest is a request to a point's logger to send its data again (GET .../data-requests).
interface DataRequest { id: number; cn: string; begin_time: string; end_time: string; requested_by: string; requested_at: string; sent_at?: string; attempts: number; qn_rtn?: string; exe_rtn?: string }

// dataRequests lists a point's data requests with where each stands: queued, sent, accepted
// (9011 QnRtn=1), done (9012 ExeRtn=1) or refused.
function dataRequests(mn: string): HTMLElement {
  const el = h('details', { class: 'mon-requests' }, h('summary', {}, t('mon_requests')));
  el.addEventListener('toggle', async () => {
    if (!(el as HTMLDetailsElement).open) return;
    try {
      const rs = (await api<{ data_requests: DataRequest[] }>('GET', `/api/v1/monitoring/points/${encodeURIComponent(mn)}/data-requests`)).data_requests;
      const state = (r: DataRequest) => r.exe_rtn ? (r.exe_rtn === '1' ? 'done' : 'failed') : r.qn_rtn ? (r.qn_rtn === '1' ? 'accepted' : 'refused') : r.sent_at ? 'sent' : 'queued';
      el.replaceChildren(el.firstChild as Node, !rs.length ? h('p', { class: 'empty' }, t('mon_requests_none')) : h('ul', {}, rs.map((r) => h('li', { dataset: { id: String(r.id) } },
        `CN ${r.cn} · ${fmtDate(r.begin_time, true)} – ${fmtDate(r.end_time, true)} · ${r.requested_by} · `, tk('mon_req_', state(r)),
        r.attempts > 1 ? ` (${t('mon_req_attempts', { n: r.attempts })})` : ''))));
    } catch (err) {
      el.append(errorBox(err));
    }
  });
  return el;
}

function limitTable(ls: Limit[]): HTMLElement {
  if (!ls.length) return h('p', { class: 'empty' }, t('mon_no_limits'));
  const n = (v?: number) => (v === undefined || v === null ? '' : String(v));
  return h('table', { class: 'mon-limits' },
    h('thead', {}, h('tr', {}, [t('mon_outlet'), t('mon_pollutant'), t('mon_hourly'), t('mon_daily'), 'O2 ref %', t('mon_load'), t('mon_basis')].map((x) => h('th', {}, x)))),
    h('tbody', {}, ls.map((l) => h('tr', {}, [l.outlet, l.pollutant, n(l.hourly), n(l.daily), n(l.o2_ref), n(l.load_kg_day), l.basis || ''].map((x) => h('td', {}, x))))));
}

const num = (v: string): number | undefined => (v.trim() === '' ? undefined : Number(v));

function pointForm(uscc: string, refresh: () => void): HTMLElement {
  return h('details', { class: 'mon-form' }, h('summary', {}, t('mon_add_point')),
    form([
      field('MN', h('input', { name: 'mn', required: true, maxlength: 24 })),
      field(t('mon_outlet'), h('input', { name: 'outlet', required: true, placeholder: 'DA001 / DW001' })),
      field(t('mon_name'), h('input', { name: 'name' })),
      field(t('mon_lon'), h('input', { name: 'lon', required: true, inputmode: 'decimal' })),
      field(t('mon_lat'), h('input', { name: 'lat', required: true, inputmode: 'decimal' })),
      field(t('mon_password'), h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' })),
    ], t('mon_add_point'), async (v) => {
      await api('POST', '/api/v1/monitoring/points', { mn: v.mn, uscc, outlet: v.outlet, name: v.name, location: [Number(v.lon), Number(v.lat)], password: v.password });
      refresh();
    }, { class: 'inline-form mon-point-form' }));
}

function limitForm(uscc: string, refresh: () => void): HTMLElement {
  return h('details', { class: 'mon-form' }, h('summary', {}, t('mon_set_limit')),
    form([
      field(t('mon_outlet'), h('input', { name: 'outlet', required: true, placeholder: 'DA001' })),
      field(t('mon_pollutant'), select('pollutant', [...gasPollutants, ...waterPollutants].map((x) => [x, x] as [string, string]))),
      field(t('mon_hourly'), h('input', { name: 'hourly', inputmode: 'decimal' })),
      field(t('mon_daily'), h('input', { name: 'daily', inputmode: 'decimal' })),
      field('O2 ref %', h('input', { name: 'o2_ref', inputmode: 'decimal' })),
      field(t('mon_load'), h('input', { name: 'load_kg_day', inputmode: 'decimal' })),
      field(t('mon_basis'), h('input', { name: 'basis' })),
    ], t('mon_set_limit'), async (v) => {
      await api('PUT', `/api/v1/enterprises/${encodeURIComponent(uscc)}/monitoring/limits/${encodeURIComponent(v.outlet)}/${encodeURIComponent(v.pollutant)}`,
        { hourly: num(v.hourly), daily: num(v.daily), o2_ref: num(v.o2_ref), load_kg_day: num(v.load_kg_day), basis: v.basis });
      refresh();
    }, { class: 'inline-form mon-limit-form' }));
}

function reportForm(uscc: string, points: Point[], refresh: () => void): HTMLElement {
  return h('details', { class: 'mon-form', open: true }, h('summary', {}, t('mon_report')),
    h('p', { class: 'muted small' }, t('mon_report_help')),
    form([
      field('MN', select('mn', points.map((p) => [p.mn, `${p.mn} (${p.outlet})`] as [string, string]))),
      field(t('mon_pollutant'), select('pollutant', [['', t('mon_all')], ...[...gasPollutants, ...waterPollutants].map((x) => [x, x] as [string, string])])),
      field(t('mon_start'), h('input', { name: 'started_at', type: 'datetime-local', required: true })),
      field(t('mon_end'), h('input', { name: 'ended_at', type: 'datetime-local' })),
      field(t('report_text'), h('textarea', { name: 'text', required: true, rows: 3 })),
    ], t('mon_report'), async (v) => {
      const iso = (s: string) => (s ? new Date(s).toISOString() : '');
      await api('POST', `/api/v1/enterprises/${encodeURIComponent(uscc)}/monitoring/reports`,
        { mn: v.mn, pollutant: v.pollutant, started_at: iso(v.started_at), ended_at: iso(v.ended_at) || undefined, text: v.text });
      refresh();
    }, { class: 'inline-form mon-report-form' }));
}

// MonitoringFacts are the monitoring facts of an inspection (GET /inspections/{id}/monitoring).
export interface MonitoringFacts { exceedances: Exceedance[]; unreported_exceedance: boolean; self_reported: boolean; disposition_preview?: { rule: string } }

// monitoringFacts reads an inspection's monitoring facts; null when the role may not or there
// are none.
export async function monitoringFacts(id: number): Promise<MonitoringFacts | null> {
  if (!can('GET /api/v1/inspections/{id}/monitoring')) return null;
  try {
    const f = await api<MonitoringFacts>('GET', `/api/v1/inspections/${id}/monitoring`);
    return f.exceedances.length ? f : null;
  } catch {
    return null;
  }
}

// factsBox shows whether the enterprise reported the inspection's exceedances itself (四.10).
export function factsBox(f: MonitoringFacts | null): HTMLElement | null {
  if (!f) return null;
  return h('div', { class: 'mon-facts ' + (f.unreported_exceedance ? 'unreported' : '') },
    h('strong', {}, f.unreported_exceedance ? t('mon_fact_unreported') : f.self_reported ? t('mon_fact_reported') : t('mon_fact_pending')),
    f.disposition_preview ? h('div', { class: 'muted small' }, f.disposition_preview.rule) : null,
    h('ul', {}, f.exceedances.map((e) => h('li', {}, `${e.mn} ${e.pollutant} ${fmtDate(e.started_at, true)}: `, tk('rep_', e.status)))));
}
