// Browser test of Offsite's web interface, run by internal/webui's TestBrowser against a real
// api and worker: sign in, open an enterprise, find its finding on the map, compare the
// quick-looks beside the map and laid on it, queue a survey and watch it finish, answer a
// self-check with uploaded proof as the enterprise, and try what a role may not do.
// Environment: OFFSITE_UI_URL, OFFSITE_UI_USCC, OFFSITE_UI_USCC_NOTICE, OFFSITE_UI_USCC_OVERDUE, OFFSITE_UI_AGENCY_CITY, OFFSITE_UI_QUARANTINE_{MN,PW}, OFFSITE_UI_PASSWORD_{ADMIN,ANALYST,INSPECTOR,APPROVER,ENTERPRISE}
// (the password of the user "ui-<role>"),
// OFFSITE_UI_SCREENSHOTS (where screenshots go on failure; after every step too with
// OFFSITE_UI_SCREENSHOTS_ALL=1), OFFSITE_UI_CHROMIUM.
import { chromium } from 'playwright-core';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const base = env('OFFSITE_UI_URL');
const uscc = env('OFFSITE_UI_USCC');
// A second enterprise whose notice has run its days (moved back by the test's seed).
const usccNotice = env('OFFSITE_UI_USCC_NOTICE');
const usccOverdue = env('OFFSITE_UI_USCC_OVERDUE');
// A city under the first province, with no enterprise of its own.
const cityAgency = env('OFFSITE_UI_AGENCY_CITY');
const passwords = Object.fromEntries(['admin', 'analyst', 'inspector', 'approver', 'enterprise'].map((r) => [r, env('OFFSITE_UI_PASSWORD_' + r.toUpperCase())]));
const shots = env('OFFSITE_UI_SCREENSHOTS');
const origin = new URL(base).origin;

const profile = mkdtempSync(join(tmpdir(), 'offsite-chromium-'));
// A fresh profile per run (playwright passes it as --user-data-dir).
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.OFFSITE_UI_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 1000 },
  locale: 'zh-CN',
  acceptDownloads: true,
});
const page = context.pages()[0] || (await context.newPage());
page.setDefaultTimeout(20000);

const problems = [];
const foreign = [];
// Capture labels are read a page at a time (GET /api/v1/captures?ids=…), not one request a capture.
const captureReads = [];
page.on('request', (r) => { if (r.method() === 'GET' && /\/api\/v1\/captures(\/\d+$|\?ids=)/.test(r.url())) captureReads.push(r.url().slice(origin.length)); });
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => { if (m.type() === 'error' && !/status of (400|401|403|404|409)/.test(m.text())) problems.push(`console: ${m.text()}`); });
// No internet at run time: every request stays on the API's origin (blob: and data: are local).
await context.route('**/*', (route) => {
  const u = route.request().url();
  if (u.startsWith(origin) || u.startsWith('blob:') || u.startsWith('data:')) return route.continue();
  foreign.push(u);
  return route.abort();
});

const steps = [];
let current = '';
async function step(name, fn) {
  current = name;
  const t0 = Date.now();
  await fn();
  steps.push(`ok  ${name} (${Date.now() - t0} ms)`);
  if (process.env.OFFSITE_UI_SCREENSHOTS_ALL) {
    // For a look at every page: a screenshot after each step, not only on failure.
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, `${steps.length}.png`), fullPage: true });
  }
  console.log(steps[steps.length - 1]);
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
// filter fills in the fields of the filters form (selects, and inputs for the others),
// submits it and waits until list shows the page of the form's query (data-query).
async function filter(form, list, fields) {
  for (const [name, v] of Object.entries(fields)) {
    if (await page.$(`${form} select[name=${name}]`)) await page.selectOption(`${form} select[name=${name}]`, v);
    else await page.fill(`${form} input[name=${name}]`, v);
  }
  const query = await page.$eval(form, (f) => {
    const q = new URLSearchParams();
    new FormData(f).forEach((v, k) => { if (v) q.set(k, v); });
    return q.toString();
  });
  await page.click(`${form} button[type=submit]`);
  await page.waitForSelector(`${list}[data-query="${query}"]`);
}
// translated checks that the Chinese text of selector shows no domain code untranslated:
// no snake_case word (new_structure, site_visit_requested), no capture kind or pipeline
// name, no capture shown by number ("#2") instead of its date and sensor.
const codes = /\b[a-z]+(?:_[a-z0-9]+)+\b|\b(?:sentinel2|landsat|drone-rgb|drone-ms|boat-track|vehicle-track|high|medium|low)\b|#\d+\b/;
async function translated(selector) {
  const text = await page.innerText(selector);
  const m = text.match(codes);
  assert(!m, `${selector} shows the untranslated code ${JSON.stringify(m && m[0])} in Chinese: ${JSON.stringify(text.slice(0, 300))}`);
}
const go = (hash) => page.goto(`${base}/ui/#${hash}`);

async function signIn(role) {
  await go('/signin');
  await page.fill('#name', 'ui-' + role);
  await page.fill('#password', passwords[role]);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#who');
}

async function signOut() {
  await page.click('#signout');
  await page.waitForSelector('#signin-form');
}

let failed = null;
try {
  await step('a wrong password is refused in words', async () => {
    await go('/signin');
    await page.fill('#name', 'ui-analyst');
    await page.fill('#password', 'not the password 0000');
    await page.click('#signin-form button[type=submit]');
    const err = await page.waitForSelector('#signin-form .error');
    const text = await err.innerText();
    assert(text.includes('账号或密码不正确'), `sign-in error reads ${JSON.stringify(text)}`);
  });

  await step('the administrator signs in, creates a user and resets its password, and signs out', async () => {
    await signIn('admin');
    assert((await page.innerText('#who')).includes('管理员'), 'the header does not name the administrator');
    await go('/admin');
    await page.waitForSelector('#user-table tr[data-user="ui-analyst"]');
    await page.fill('#new-user-name', 'ui-new-inspector');
    await page.selectOption('#new-user-role', 'inspector');
    await page.fill('#new-user-password', 'a new password 0001');
    await page.click('#user-form button[type=submit]');
    const row = await page.waitForSelector('#user-table tr[data-user="ui-new-inspector"]');
    await (await row.$('input.reset-password')).fill('another password 0002');
    await (await row.$('.reset-form button[type=submit]')).click();
    await page.waitForSelector('#user-table tr[data-user="ui-new-inspector"] .reset-form .ok');
    await page.waitForSelector('#agency-tree li');
    await signOut();
    // The session is over on the server too: the API answers 401 to the old cookie.
    const status = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
    assert(status === 401, `/api/v1/me after signing out: ${status}`);
    // The new user signs in with the password the administrator set.
    await go('/signin');
    await page.fill('#name', 'ui-new-inspector');
    await page.fill('#password', 'another password 0002');
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('#who');
    await signOut();
  });

  await step('the analyst signs in and finds the enterprise by its open warnings', async () => {
    await signIn('analyst');
    assert((await page.innerText('#who')).includes('分析员'), 'the header does not name the analyst role in Chinese');
    await page.selectOption('#ent-filters select[name=open_warnings]', 'true');
    await page.click('#ent-filters button[type=submit]');
    await page.waitForSelector(`#ent-results tr[data-uscc="${uscc}"]`);
    const rows = await page.$$('#ent-results tbody tr');
    assert(rows.length === 1, `${rows.length} enterprises with open warnings, want 1`);
    assert((await page.innerText(`#ent-results tr[data-uscc="${uscc}"]`)).includes('预警'), 'the row does not show the warnings');
    await page.selectOption('#ent-filters select[name=open_warnings]', 'false');
    await page.click('#ent-filters button[type=submit]');
    await page.waitForSelector(`#ent-results tr[data-uscc="${usccNotice}"]`);
    assert(!(await page.$(`#ent-results tr[data-uscc="${uscc}"]`)), 'the enterprise with warnings is listed among those without');
  });

  await step('the enterprise page shows the finding on the map', async () => {
    await go('/enterprises?q=' + uscc.slice(0, 8));
    await page.click(`#ent-results tr[data-uscc="${uscc}"] a.ent-link`);
    await page.waitForSelector('#ent-map[data-findings]');
    const n = Number(await page.getAttribute('#ent-map', 'data-findings'));
    const parcels = Number(await page.getAttribute('#ent-map', 'data-parcels'));
    assert(n >= 1 && parcels === 1, `map shows ${n} findings on ${parcels} parcels, want >= 1 on 1`);
    await page.waitForSelector('#ent-map[data-rendered]');
    // Where the finding is drawn, the map has a finding feature; click it there.
    const px = await page.evaluate(() => {
      const el = document.getElementById('ent-map');
      const map = el.olMap;
      const layer = map.getLayers().item(map.getLayers().getLength() - 1);
      const f = layer.getSource().getFeatures()[0];
      const g = f.getGeometry();
      const c = g.getInteriorPoints ? g.getInteriorPoints().getPoint(0).getCoordinates() : g.getInteriorPoint().getCoordinates();
      const p = map.getPixelFromCoordinate(c);
      const hit = map.forEachFeatureAtPixel(p, (x) => x === f) || false;
      const r = el.getBoundingClientRect();
      return { x: r.left + p[0], y: r.top + p[1], hit, kind: f.get('kind') };
    });
    assert(px.hit, 'the finding is not drawn where it is');
    await page.mouse.click(px.x, px.y);
    await page.waitForSelector('#finding-detail #before-after .ba-after');
    await page.waitForFunction(() => [...document.querySelectorAll('#before-after img')].every((i) => i.complete && i.naturalWidth > 0));
    assert(await page.$('#finding-list li.selected'), 'clicking the finding on the map does not select it in the list');
    await translated('#finding-list');
    await translated('#finding-detail > h2');
    await translated('#finding-detail > dl.facts');
  });

  await step('before and after from the clip COGs with one stretch and a colour choice', async () => {
    // The Sentinel-2 clips carry B02 B03 B04 B08: both dates are drawn from them, not from the
    // quick-look PNGs, with the same per-band stretch, in true colour and then in false colour.
    const stretch = () => page.$$eval('#before-after canvas', (cs) => cs.map((c) => ({ s: c.dataset.stretch, b: c.dataset.bands, w: c.width, o: Number(c.dataset.outlines), lit: (() => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] && (d[i] || d[i + 1] || d[i + 2])) n++;
      return n;
    })() })));
    assert(await page.getAttribute('#before-after', 'data-source') === 'cog', `before/after is not drawn from the clip COGs: ${await page.getAttribute('#before-after', 'data-why')}`);
    const tc = await stretch();
    assert(tc.length === 2 && tc[0].s && tc[0].s === tc[1].s, `before and after stretches differ: ${JSON.stringify(tc)}`);
    assert(tc.every((c) => c.b === 'B04,B03,B02' && c.w > 0 && c.lit > 0 && c.o >= 1), `true colour bands, pixels or finding outline: ${JSON.stringify(tc)}`);
    for (const [lo, hi] of tc[0].s.split(',').map((p) => p.split(':').map(Number))) assert(hi > lo, `stretch ${tc[0].s}`);
    await translated('#before-after .ba-modes');
    await page.selectOption('#ba-colour', 'false');
    assert(await page.getAttribute('#before-after', 'data-composite') === 'false', 'the colour choice does not switch to false colour');
    const fc = await stretch();
    assert(fc.every((c) => c.b === 'B08,B04,B03') && fc[0].s === fc[1].s, `false colour: ${JSON.stringify(fc)}`);
    assert(fc[0].s !== tc[0].s, `false colour kept the true colour stretch ${fc[0].s}`);
    await page.selectOption('#ba-colour', 'true');
    assert((await stretch())[0].s === tc[0].s, 'back to true colour, the stretch changed');
  });

  await step('before and after compare by swipe and toggle; evidence has hashes and provenance', async () => {
    await page.fill('#swipe', '80');
    const clip = await page.$eval('#before-after .ba-after', (i) => i.style.clipPath);
    assert(clip.includes('80%'), `after image clip-path ${clip}`);
    await page.selectOption('#before-after select[name=ba-mode]', 'toggle');
    await page.click('#ba-toggle');
    assert(await page.$eval('#before-after .ba-after', (i) => i.style.visibility) === 'hidden', 'toggle does not hide the after image');
    const rows = await page.$$('#finding-detail table.evidence tbody tr');
    assert(rows.length >= 3, `${rows.length} evidence rows`);
    const hash = await page.$eval('#finding-detail table.evidence .hash', (e) => e.title);
    assert(/^[0-9a-f]{64}$/.test(hash), `evidence hash ${hash}`);
    const prov = await page.$eval('#finding-detail .provenance pre', (e) => e.textContent);
    assert(prov.includes('derived_from') || prov.includes('processing'), 'provenance lacks its links');
    await page.waitForFunction(() => [...document.querySelectorAll('#finding-detail img.thumb')].some((i) => i.naturalWidth > 0));
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#finding-detail table.evidence tbody tr:first-child .action button')]);
    assert(dl.suggestedFilename().length > 10, `download named ${dl.suggestedFilename()}`);
  });

  await step('the finding\'s quick-look lies on the map over its parcel, in the scene\'s CRS', async () => {
    await page.waitForSelector('#ent-map[data-quicklook-extent]');
    // Both dates on the map are the clip COGs drawn with the shared stretch, as in the view above.
    assert(await page.getAttribute('#ent-map', 'data-quicklook-source') === 'cog,cog', `map overlay drawn from ${await page.getAttribute('#ent-map', 'data-quicklook-source')}`);
    const r = await page.evaluate(async () => {
      const el = document.getElementById('ent-map');
      const map = el.olMap;
      const layers = map.getLayers().getArray();
      const ql = layers.filter((l) => l.getClassName() === 'quicklook');
      const site = layers[layers.length - 2].getSource().getFeatures().find((f) => f.get('parcel_id') === 'site');
      const pe = site.getGeometry().getExtent();
      const w = pe[2] - pe[0];
      // Zoom out to the parcel with room around it, and wait until the image is drawn.
      await new Promise((res) => {
        map.once('rendercomplete', res);
        map.getView().fit([pe[0] - w, pe[1] - w, pe[2] + w, pe[3] + w]);
      });
      const canvas = el.querySelector('.quicklook canvas');
      const ctx = canvas && canvas.getContext('2d');
      const ratio = canvas ? canvas.width / canvas.getBoundingClientRect().width : 1;
      const alpha = (c) => {
        const p = map.getPixelFromCoordinate(c);
        return ctx.getImageData(Math.round(p[0] * ratio), Math.round(p[1] * ratio), 1, 1).data[3];
      };
      const inset = 0.05 * w;
      const out = 0.13 * w; // 61 map units: past the clip, which ends at most 35 past the parcel
      const cx = (pe[0] + pe[2]) / 2;
      const cy = (pe[1] + pe[3]) / 2;
      return {
        layers: ql.length,
        visible: ql.filter((l) => l.getVisible()).map((l) => l.get('role')),
        projection: ql[0] && ql[0].getSource().getProjection().getCode(),
        pe,
        qe: el.dataset.quicklookExtent.split(',').map(Number),
        canvas: !!ctx,
        inside: ctx ? [[pe[0] + inset, pe[1] + inset], [pe[2] - inset, pe[1] + inset], [pe[2] - inset, pe[3] - inset], [pe[0] + inset, pe[3] - inset]].map(alpha) : [],
        outside: ctx ? [[pe[0] - out, cy], [pe[2] + out, cy], [cx, pe[1] - out], [cx, pe[3] + out]].map(alpha) : [],
      };
    });
    assert(r.layers === 2 && r.visible.join() === 'after', `quick-look layers ${r.layers}, visible ${r.visible}: want before and after, after shown`);
    assert(r.projection === 'EPSG:32650', `quick-look placed from ${r.projection}, want the scene's EPSG:32650`);
    // The clip is the parcel grown by the pipeline's 30 m buffer, cropped inward to whole
    // 10 m pixels: 20 or 30 m past each side, 23.5 or 35 map units at this latitude.
    const margins = [r.pe[0] - r.qe[0], r.pe[1] - r.qe[1], r.qe[2] - r.pe[2], r.qe[3] - r.pe[3]];
    assert(margins.every((m) => m > 15 && m < 45), `quick-look extent ${r.qe} against parcel ${r.pe}: margins ${margins.map((m) => m.toFixed(1))}, want 15..45`);
    assert(r.canvas, 'the quick-look layer has no canvas on the map');
    assert(r.inside.every((a) => a > 0), `quick-look pixels inside the parcel's corners are transparent: alpha ${r.inside}`);
    assert(r.outside.every((a) => a === 0), `quick-look pixels drawn outside its clip: alpha ${r.outside}`);
    // Before instead of after, and none.
    await page.selectOption('#overlay-which', 'before');
    assert(await page.evaluate(() => document.getElementById('ent-map').olMap.getLayers().getArray()
      .filter((l) => l.getClassName() === 'quicklook' && l.getVisible()).map((l) => l.get('role')).join()) === 'before', 'choosing before does not show it');
    await page.selectOption('#overlay-which', 'none');
    assert(await page.evaluate(() => !document.getElementById('ent-map').olMap.getLayers().getArray()
      .some((l) => l.getClassName() === 'quicklook' && l.getVisible())), 'choosing none leaves a quick-look shown');
    await page.selectOption('#overlay-which', 'after');
  });

  await step('the map reads out WGS84 coordinates, measures, switches layers, and knows GCJ-02', async () => {
    await page.$eval('#ent-map', (e) => e.scrollIntoView({ block: 'center' }));
    await page.waitForTimeout(200);
    const box = await page.$eval('#ent-map', (e) => { const r = e.getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width, h: r.height }; });
    await page.mouse.move(box.x + box.w * 0.3, box.y + box.h * 0.6);
    await page.mouse.move(box.x + box.w * 0.31, box.y + box.h * 0.61);
    const coord = await page.innerText('#ent-map-tools .coord-readout');
    const [lon, lat] = coord.split(',').map(Number);
    assert(lon > 116 && lon < 118 && lat > 31 && lat < 32.5, `the coordinate readout says ${JSON.stringify(coord)}, want the parcel's area near 117 E, 31.6 N`);
    // Measure a line across the map: the readout shows its length on the ellipsoid.
    await page.selectOption('#ent-map-tools .measure-select', 'LineString');
    const a = [box.x + box.w * 0.2, box.y + box.h * 0.5], b = [box.x + box.w * 0.8, box.y + box.h * 0.5];
    await page.mouse.move(a[0], a[1]);
    await page.mouse.click(a[0], a[1]);
    await page.waitForTimeout(300);
    await page.mouse.move(b[0], b[1], { steps: 5 });
    await page.mouse.click(b[0], b[1]);
    await page.waitForTimeout(150);
    await page.mouse.click(b[0], b[1]); // a click on the last corner finishes the line
    await page.waitForFunction(() => document.querySelector('#ent-map-tools .measure-out')?.textContent, null, { timeout: 3000 }).catch(async (e) => {
      const diag = await page.evaluate(() => { const m = document.getElementById('ent-map').olMap; return m.getInteractions().getArray().map((i) => `${i.constructor.name}:${i.getActive()}`).join(' '); });
      throw new Error(`no measure readout; interactions ${diag}: ${e.message}`);
    });
    const measured = await page.innerText('#ent-map-tools .measure-out');
    const want = await page.evaluate(([a, b]) => {
      const map = document.getElementById('ent-map').olMap;
      const r = document.getElementById('ent-map').getBoundingClientRect();
      const p = [a, b].map(([x, y]) => map.getCoordinateFromPixel([x - r.left, y - r.top]));
      // web Mercator metres shrink by cos(latitude) on the ground
      const lat = Math.atan(Math.sinh(p[0][1] / 6378137));
      return Math.hypot(p[1][0] - p[0][0], p[1][1] - p[0][1]) * Math.cos(lat);
    }, [a, b]);
    const m = measured.match(/([\d.]+) (m|km)/);
    const got = m ? Number(m[1]) * (m[2] === 'km' ? 1000 : 1) : NaN;
    assert(Math.abs(got - want) / want < 0.02, `measured ${JSON.stringify(measured)}, want about ${want.toFixed(1)} m`);
    await page.selectOption('#ent-map-tools .measure-select', '');
    // The layer switcher hides and shows the findings.
    const findings = '#ent-map-tools .layer-switcher label:nth-of-type(2) input';
    await page.uncheck(findings);
    const visible = () => page.evaluate(() => { const m = document.getElementById('ent-map').olMap; return m.getLayers().item(m.getLayers().getLength() - 1).getVisible(); });
    assert(!(await visible()), 'unticking the findings does not hide them');
    await page.check(findings);
    assert(await visible(), 'ticking the findings does not show them again');
    // GCJ-02: the published forward value (coordtransform's example) and a round trip.
    const [g, w] = await page.evaluate(() => { const c = window.offsiteGcj02; const g = c.wgs84ToGcj02(116.404, 39.915); return [g, c.gcj02ToWgs84(g[0], g[1])]; });
    assert(Math.abs(g[0] - 116.41024449916938) < 1e-7 && Math.abs(g[1] - 39.91640428150164) < 1e-7, `WGS84 → GCJ-02 gives ${g}`);
    assert(Math.abs(w[0] - 116.404) < 1e-8 && Math.abs(w[1] - 39.915) < 1e-8, `GCJ-02 → WGS84 round trip gives ${w}`);
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  await step('the inspection shows its steps and no action the analyst may not take', async () => {
    await page.waitForSelector('#inspections article.inspection');
    await translated('#inspections ol.timeline > li > strong');
    // The warning the finding raised, written by the server as "finding <id>: change <class>",
    // reads in Chinese, rebuilt from its parts; the server's words stay in the title.
    const warn = await page.$eval('#inspections ul.warnings li', (li) => ({ text: li.innerText, title: li.title }));
    assert(warn.text.startsWith('遥感发现') && !/\bchange\b|\bfinding\b/.test(warn.text) && warn.title.startsWith('finding '),
      `the warning reads ${JSON.stringify(warn)}`);
    await translated('#inspections ul.warnings');
    const steps = await page.$$('#inspections ol.timeline > li');
    assert(steps.length >= 1, 'the timeline is empty');
    assert(await page.$('#inspections .no-actions'), 'the analyst is offered inspection actions');
    assert(!(await page.$('#act-approve')), 'the analyst is offered the approval');
  });

  await step('the analyst queues a survey over a drawn zone and watches it finish', async () => {
    await go('/surveys/new');
    await page.waitForSelector('#survey-map[data-parcels]');
    await page.waitForSelector('#survey-map[data-rendered]');
    const box = await page.$eval('#survey-map', (e) => { const r = e.getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width, h: r.height }; });
    const pts = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]].map(([a, b]) => [box.x + a * box.w, box.y + b * box.h]);
    for (const [x, y] of pts) {
      await page.mouse.click(x, y);
      await page.waitForTimeout(150);
    }
    await page.mouse.click(pts[0][0], pts[0][1]); // closing on the first corner finishes the polygon
    await page.waitForSelector('#survey-map[data-zone=drawn]');
    // A window that ends before it starts is refused by the API, and said so in words.
    await page.fill('#survey-form input[name=end]', '2020-01-01');
    await page.click('#survey-form button[type=submit]');
    const err = await (await page.waitForSelector('#survey-form .error')).innerText();
    assert(err.includes('“结束日期”填写有误'), `invalid window error reads ${JSON.stringify(err)}`);
    const tomorrow = new Date(Date.now() + 86400e3).toISOString().slice(0, 10);
    await page.fill('#survey-form input[name=end]', tomorrow);
    await page.fill('#survey-form input[name=name]', '浏览器测试调查');
    await page.click('#survey-form button[type=submit]');
    await page.waitForSelector('#survey-status');
    const seen = new Set();
    const deadline = Date.now() + 150000;
    for (;;) {
      const st = await page.getAttribute('#survey-status', 'data-status');
      seen.add(await page.getAttribute('#survey-progress', 'aria-valuenow'));
      if (['finished', 'error', 'canceled'].includes(st)) {
        assert(st === 'finished', `survey ended ${st}: ${await page.innerText('#survey-status')}`);
        break;
      }
      assert(Date.now() < deadline, `survey still ${st} after 150 s`);
      await page.waitForTimeout(300);
    }
    await page.waitForFunction(() => document.querySelector('#survey-progress')?.getAttribute('aria-valuenow') === '100');
    const parts = await page.$$('#survey-parts tbody tr');
    assert(parts.length >= 2, `${parts.length} survey parts, want the 2 captures`);
    // Captures are named by acquisition date and sensor, not by number.
    await page.waitForFunction(() => [...document.querySelectorAll('#survey-parts .capture-label')].every((e) => !e.textContent.startsWith('#')));
    assert(captureReads.length >= 1 && captureReads.every((u) => u.includes('?ids=')), `capture labels read by ${JSON.stringify(captureReads)}, want GET /api/v1/captures?ids=`);
    await translated('#survey-parts tbody');
    console.log(`    progress values seen: ${[...seen].join(', ')}`);
    // The finished survey maps and lists the parcels and findings of its zone and captures.
    await page.waitForSelector('#survey-zone-map[data-results]');
    const [np, nf] = (await page.getAttribute('#survey-zone-map', 'data-results')).split('/').map(Number);
    assert(np >= 1 && nf >= 1, `survey results: ${np} parcels, ${nf} findings; want the seeded parcel and its finding`);
    await page.waitForSelector('#survey-findings li');
    await translated('#survey-findings');
    // The survey page lists it, from the API, as finished with all its parts done.
    const surveyID = page.url().split('#/surveys/')[1];
    await go('/surveys/new');
    const item = `#survey-recent li:has(a[href="#/surveys/${surveyID}"])`;
    await page.waitForSelector(item);
    const line = await page.innerText(item);
    assert(line.includes('已完成') && /(\d+)\/\1/.test(line), `survey ${surveyID} listed as "${line}", want finished with every part done`);
  });

  await step('the analyst proposes the enterprise for the positive list and puts it on public notice', async () => {
    await go('/list');
    // Only the second enterprise, on notice since the seed, is on the list yet.
    await page.waitForSelector(`#list-entries article.entry:has(code:text-is("${usccNotice}"))`);
    await page.click('details:has(#propose-form) > summary');
    await page.fill('#propose-form input[name=uscc]', uscc);
    await page.$$eval('#propose-form input[type=checkbox]', (xs) => xs.forEach((x) => (x.checked = true)));
    for (const sel of await page.$$('#propose-form select')) {
      await sel.selectOption({ index: 1 });
    }
    await page.click('#propose-form button[type=submit]');
    const entry = `#list-entries article.entry:has(code:text-is("${uscc}"))`;
    await page.waitForSelector(`${entry}[data-status=proposed]`);
    await page.click(`${entry} form.act-notice button[type=submit]`);
    await page.waitForSelector(`${entry}[data-status=notice]`);
    const notices = await (await page.waitForSelector('#notices table')).innerText();
    assert(notices.includes(uscc), 'the entry on notice is not among the public notices');
  });

  await step('the analyst edits the enterprise\'s facts, adds a parcel from a file (a broken one refused at its input) and retires it', async () => {
    await go('/enterprises/' + uscc);
    await page.waitForSelector('#ent-map[data-findings]');
    const parcels = Number(await page.getAttribute('#ent-map', 'data-parcels'));
    await page.click('#ent-manage details.edit-facts > summary');
    await page.fill('#facts-form input[name=address]', '苏州工业园区 2 号');
    await page.click('#facts-form button[type=submit]');
    await page.waitForSelector('dl.facts dd:text-is("苏州工业园区 2 号")');
    await page.click('#ent-manage details.add-parcels > summary');
    // A bow tie is refused, and the refusal shown at the text box.
    const fc = (ring) => JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { parcel_id: 'yard', name: '堆场' }, geometry: { type: 'Polygon', coordinates: [ring] } }] });
    await page.fill('#parcel-form textarea[name=geojson]', fc([[117.01, 31.6], [117.012, 31.602], [117.012, 31.6], [117.01, 31.602], [117.01, 31.6]]));
    await page.click('#parcel-form button[type=submit]');
    const fe = await (await page.waitForSelector('#parcel-form .field-error')).innerText();
    assert(/self-intersect|invalid|ring/i.test(fe), `the refused parcel reads ${JSON.stringify(fe)}`);
    // The good one comes from a file.
    await page.setInputFiles('#parcel-form input.parcel-file', { name: 'yard.geojson', mimeType: 'application/geo+json',
      buffer: Buffer.from(fc([[117.01, 31.6], [117.012, 31.6], [117.012, 31.602], [117.01, 31.602], [117.01, 31.6]])) });
    await page.waitForFunction(() => document.querySelector('#parcel-form textarea').value.includes('117.012, 31.6]') || document.querySelector('#parcel-form textarea').value.includes('[117.012,31.6]'));
    await page.click('#parcel-form button[type=submit]');
    await page.waitForSelector('#parcel-table tr[data-parcel=yard]');
    await page.waitForFunction((n) => Number(document.getElementById('ent-map')?.dataset.parcels) === n + 1, parcels);
    page.once('dialog', (d) => d.accept());
    await page.click('#parcel-table tr[data-parcel=yard] button.retire');
    // No evidence was made on it: it leaves the page with the lists.
    await page.waitForFunction((n) => Number(document.getElementById('ent-map')?.dataset.parcels) === n && !document.querySelector('#parcel-table tr[data-parcel=yard]'), parcels);
  });

  await step('the inspector may not queue a survey: the form says so and the API refuses in words', async () => {
    await signOut();
    await signIn('inspector');
    await go('/surveys/new');
    const msg = await (await page.waitForSelector('#survey-forbidden')).innerText();
    assert(msg.includes('检查员'), `forbidden message ${JSON.stringify(msg)}`);
    assert(await page.$eval('#survey-form button[type=submit]', (b) => b.disabled), 'the queue button is enabled for the inspector');
    // Were the button enabled (a stale page), the API would refuse, and the page say why.
    await page.waitForSelector('#survey-map[data-rendered]');
    await page.$$eval('#survey-form input, #survey-form select, #survey-form button', (xs) => xs.forEach((x) => (x.disabled = false)));
    // This time the zone is picked from the named zones.
    await page.waitForSelector('#zone-pick option:nth-child(2)', { state: 'attached' });
    await page.selectOption('#zone-pick', { label: '东区工业园' });
    await page.waitForSelector('#survey-map[data-zone=picked]');
    await page.click('#survey-form button[type=submit]');
    const err = await (await page.waitForSelector('#survey-form .error')).innerText();
    assert(err.includes('无权') && err.includes('检查员'), `forbidden error reads ${JSON.stringify(err)}`);
  });

  await step('the inspector records a health-check visit, listed on the enterprise page', async () => {
    await go('/enterprises/' + uscc);
    await page.waitForSelector('#health-visits form.hv-form');
    await page.fill('#health-visits input[name=visited_at]', '2026-11-20');
    await page.fill('#health-visits input[name=notes]', '帮助企业完善台账');
    await page.click('#health-visits form.hv-form button[type=submit]');
    const row = await (await page.waitForSelector('#health-visits tbody tr:has-text("帮助企业完善台账")')).innerText();
    assert(row.includes('2026/11/20'), `the visit is listed as ${JSON.stringify(row)}`);
  });

  await step('the inspector may ask for a self-check, which joins the steps', async () => {
    await go('/enterprises/' + uscc);
    await page.waitForSelector('#inspections form.act-self-check');
    assert(!(await page.$('#act-approve')), 'the inspector is offered the approval');
    const before = (await page.$$('#inspections ol.timeline > li')).length;
    await page.click('#inspections form.act-self-check button[type=submit]');
    await page.waitForSelector('#inspections article[data-status=self_check_requested]');
    const after = (await page.$$('#inspections ol.timeline > li')).length;
    assert(after === before + 1, `timeline has ${after} steps, want ${before + 1}`);
  });

  await step('the enterprise\'s inbox lists the self-check with its deadline, counted on the navigation', async () => {
    await signOut();
    await signIn('enterprise');
    const count = await (await page.waitForSelector('#inbox-count:not(:empty)')).innerText();
    assert(Number(count) >= 1, `inbox count reads ${JSON.stringify(count)}`);
    await page.click('#nav-inbox');
    const row = await page.waitForSelector('#inbox-items tr[data-kind=self_check_requested]');
    const text = await row.innerText();
    assert(text.includes('请开展自查并报告') && !text.includes('已逾期'), `inbox row reads ${JSON.stringify(text)}`);
    // It chooses to be e-mailed self-check requests.
    await page.click('#inbox-prefs >> xpath=.. >> summary');
    await page.fill('#prefs-form input[name=address]', 'ehs@example.org');
    await page.check('#prefs-form input[name=email][value="self_check.requested"]');
    await page.click('#prefs-form button[type=submit]');
    await page.waitForSelector('#prefs-form .ok');
  });

  await step('the enterprise sees its standing and the finding its inspection cites, with the evidence, and asks for more time', async () => {
    await go('/enterprises/' + uscc);
    // Its list entry, on notice since the analyst's step.
    await page.waitForSelector('#standing li.entry-line[data-status=notice]');
    await translated('#standing ul.list-entries');
    // The finding the self-check request rests on, on the map and beside it, with its
    // before/after drawn from the clip COGs read through the inspection.
    await page.waitForSelector('#ent-map[data-findings]');
    const n = Number(await page.getAttribute('#ent-map', 'data-findings'));
    assert(n >= 1, `the enterprise's map shows ${n} cited findings, want >= 1`);
    await page.click('#finding-list li');
    await page.waitForSelector('#finding-detail #before-after');
    assert(await page.getAttribute('#before-after', 'data-source') === 'cog', `the enterprise's before/after: ${await page.getAttribute('#before-after', 'data-why')}`);
    const rows = await page.$$('#finding-detail table.evidence tbody tr');
    assert(rows.length >= 3, `the enterprise sees ${rows.length} evidence rows`);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#finding-detail table.evidence tbody tr:first-child .action button')]);
    assert(dl.suggestedFilename().length > 10, `cited evidence downloaded as ${dl.suggestedFilename()}`);
    // It asks for a week more than the deadline.
    const card = '#inspections article[data-status=self_check_requested]';
    const deadline = await page.innerText(`${card} dl.self-check dd.deadline`);
    await page.fill(`${card} form.act-extension input[name=reason]`, '更换阀门需等待备件');
    await page.click(`${card} form.act-extension button[type=submit]`);
    await page.waitForSelector(`${card} ul.extensions li[data-decision=pending]`);
    assert(!(await page.$(`${card} form.act-extension`)), 'a second extension request is offered while one waits');
    console.log(`    deadline before the extension: ${deadline}`);
  });

  await step('the inspector grants the extension from the inbox; the deadline moves', async () => {
    await signOut();
    await signIn('inspector');
    await page.click('#nav-inbox');
    const row = await page.waitForSelector('#inbox-items tr[data-kind=extension_to_decide]');
    await (await row.$('a')).click();
    const card = '#inspections article[data-status=self_check_requested]';
    const before = await (await page.waitForSelector(`${card} dl.self-check dd.deadline`)).innerText();
    await page.click(`${card} form.act-decide-extension button[type=submit]`);
    await page.waitForSelector(`${card} ul.extensions li[data-decision=granted]`);
    const after = await page.innerText(`${card} dl.self-check dd.deadline`);
    assert(after !== before, `the deadline stayed ${before} after the grant`);
  });

  await step('the enterprise answers the self-check with uploaded proof, listed with its SHA-256', async () => {
    await signOut();
    await signIn('enterprise');
    await go('/enterprises/' + uscc);
    const form = '#inspections article[data-status=self_check_requested] form.act-report';
    await page.waitForSelector(`${form} input.proof-files`);
    // A text file is refused, in words, next to the form.
    await page.setInputFiles(`${form} input.proof-files`, { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a document') });
    await page.click(`${form} button.proof-upload`);
    const err = await (await page.waitForSelector(`${form} .upload-out .proof-error`)).innerText();
    assert(err.includes('notes.txt') && err.includes('填写有误'), `refused upload reads ${JSON.stringify(err)}`);
    const pdf = Buffer.from('%PDF-1.4\n% self-check of the kiln\n' + 'the valve was replaced on site\n'.repeat(50));
    const sum = createHash('sha256').update(pdf).digest('hex');
    await page.setInputFiles(`${form} input.proof-files`, { name: '自查报告.pdf', mimeType: 'application/pdf', buffer: pdf });
    await page.click(`${form} button.proof-upload`);
    const item = await page.waitForSelector(`${form} .proof-list li[data-sha256="${sum}"]`);
    const line = await item.innerText();
    assert(line.includes('自查报告.pdf') && line.includes(`${(pdf.length / 1024).toFixed(1)} KiB`), `uploaded proof listed as ${JSON.stringify(line)}`);
    assert(await item.$eval('.hash', (e) => e.title) === sum, 'the uploaded proof does not show its SHA-256');
    assert(!(await page.$(`${form} .upload-out .proof-error`)), 'the earlier refusal is still shown');
    await page.fill(`${form} textarea[name=text]`, '阀门已更换，排放恢复正常。');
    await page.click(`${form} button[type=submit]`);
    const done = '#inspections article[data-status=report_submitted]';
    await page.waitForSelector(done);
    // The timeline lists the upload with its digest, and the report citing it; both download.
    const up = await page.waitForSelector(`${done} ol.timeline li.proof[data-sha256="${sum}"]`);
    assert(await up.$eval('.hash', (e) => e.title) === sum, 'the timeline does not show the proof\'s SHA-256');
    assert(await page.$(`${done} ol.timeline li.proof.cited`), 'the report step does not cite the proof');
    const [dl] = await Promise.all([page.waitForEvent('download'), up.$eval('button.proof-download', (b) => b.click())]);
    assert(dl.suggestedFilename() === '自查报告.pdf', `proof downloaded as ${dl.suggestedFilename()}`);
    const got = createHash('sha256').update(readFileSync(await dl.path())).digest('hex');
    assert(got === sum, `downloaded proof hashes to ${got}, want ${sum}`);
  });

  await step('the enterprise amends its report before review and reports an incident itself; a refused field is shown at its input', async () => {
    const card = '#inspections article[data-status=report_submitted]';
    await page.click(`${card} details.amend > summary`);
    await page.fill(`${card} form.act-amend textarea[name=text]`, '阀门已更换，排放恢复正常；附更换记录。');
    await page.click(`${card} form.act-amend button[type=submit]`);
    await page.waitForSelector(`${card} dl.self-check dd.report:has-text("附更换记录")`);
    assert((await page.innerText(`${card} dl.self-check dd.report`)).includes('已修改 1 次'), 'the amended report does not say so');
    await page.click('#standing details.report-incident > summary');
    // An incident in the future is refused, and the refusal is shown at its input.
    const future = new Date(Date.now() + 3 * 86400e3 - new Date().getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
    await page.fill('#incident-form input[name=occurred_at]', future);
    await page.fill('#incident-form textarea[name=description]', '除尘器故障，颗粒物短时超标');
    await page.fill('#incident-form textarea[name=measures]', '已停炉检修');
    await page.click('#incident-form button[type=submit]');
    const fe = await (await page.waitForSelector('#incident-form .field-error[data-field=occurred_at]')).innerText();
    assert(fe.includes('future'), `the refused field reads ${JSON.stringify(fe)}`);
    assert(await page.getAttribute('#incident-form input[name=occurred_at]', 'aria-invalid') === 'true', 'the refused input is not marked');
    const past = new Date(Date.now() - 86400e3 - new Date().getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
    await page.fill('#incident-form input[name=occurred_at]', past);
    await page.fill('#incident-form textarea[name=description]', '除尘器故障，颗粒物短时超标');
    await page.click('#incident-form button[type=submit]');
    await page.waitForSelector('#standing table.incidents tbody tr:has-text("除尘器故障")');
    assert(!(await page.$('#incident-form .field-error')), 'the refusal stays after a good submission');
  });

  await step('the approver lists the enterprise whose notice is over and puts its renewal on notice', async () => {
    await signOut();
    await signIn('approver');
    assert((await page.innerText('#who')).includes('审批'), 'the header does not name the approver');
    await page.click('nav a[href="#/list"]');
    const entry = `#list-entries article.entry:has(code:text-is("${usccNotice}"))`;
    await page.click(`${entry}[data-status=notice] button.act-list`);
    await page.waitForSelector(`${entry}[data-status=listed]`);
    await translated(`${entry} dl.facts`);
    // The renewal, on the facts it was admitted on, goes on notice first (二.3).
    await page.click(`${entry} form.act-renew button[type=submit]`);
    const adj = await (await page.waitForSelector(`${entry} p.adjustment`)).innerText();
    assert(adj.includes('续期'), `the renewal on notice reads ${JSON.stringify(adj)}`);
  });

  await step('the approver files the admission with the province from the filings page and records the receipt', async () => {
    await page.click('nav a[href="#/filings"]');
    const open = `#filings-open article.entry:has(code:text-is("${usccNotice}"))`;
    const file = await page.waitForSelector(`${open} button.act-file`);
    assert((await file.innerText()).includes('纳入'), `the file button reads ${JSON.stringify(await file.innerText())}`);
    await translated(`${open} dl.facts`);
    await file.click();
    await page.fill(`${open} form.act-receipt input[name=receipt]`, '苏环备〔2026〕18号');
    await page.click(`${open} form.act-receipt button[type=submit]`);
    const filed = await (await page.waitForSelector(`#filings-done article.entry:has(code:text-is("${usccNotice}")) .actions p.muted`)).innerText();
    assert(filed.includes('完成省级备案'), `the filed entry reads ${JSON.stringify(filed)}`);
    assert(!(await page.$(open)), 'the filed entry still awaits filing');
    await translated('#filings-done');
  });

  await step('the inspector records a complaint and a media report of one matter, joined, and asks for a site visit', async () => {
    await signOut();
    await signIn('inspector');
    await page.click('nav a[href="#/intake"]');
    const record = async (source, ref, summary) => {
      await page.selectOption('#intake-form select[name=source]', source);
      await page.fill('#intake-form input[name=source_ref]', ref);
      await page.fill('#intake-form input[name=uscc]', usccNotice);
      await page.fill('#intake-form textarea[name=summary]', summary);
      await page.click('#intake-form button[type=submit]');
      return page.waitForSelector(`#intake-new .in-out p[data-outcome]:has-text("${source === 'complaint' ? '' : '并入'}")`);
    };
    const first = await record('complaint', '12369-2026-0815', '夜间排放刺激性气味');
    assert(await first.getAttribute('data-outcome') === 'opened', `the complaint ${await first.getAttribute('data-outcome')}`);
    const matter = await first.getAttribute('data-matter');
    const second = await record('media_report', '苏州日报 2026-11-30', '居民反映化工厂夜间异味');
    assert(await second.getAttribute('data-outcome') === 'joined' && await second.getAttribute('data-matter') === matter, 'the media report of the same matter was not joined');
    const m = `#matters article.matter[data-id="${matter}"]`;
    await page.waitForSelector(`${m} ul.reports li[data-source=media_report]`);
    assert((await page.$$(`${m} ul.reports li`)).length === 2, 'the matter does not list both reports');
    await translated(`${m} h3`);
    await page.fill(`${m} form.act-matter-visit input[name=reason]`, '群众举报并经媒体曝光，需现场核实');
    await page.click(`${m} form.act-matter-visit button[type=submit]`);
    await page.waitForSelector(`${m}[data-status=site_visit_requested]`);
  });

  await step('the inspector sees the health-check visits due across enterprises, with their due dates', async () => {
    await page.click('nav a[href="#/health-visits"]');
    const row = await page.waitForSelector(`#hv-due tr[data-uscc="${usccNotice}"]`);
    const cells = await row.$$eval('td', (tds) => tds.map((td) => td.textContent));
    assert(cells[0] === '某纸业有限公司' && /^\d{4}\/\d\d\/\d\d$/.test(cells[3]), `the row reads ${JSON.stringify(cells)}`);
    assert(['尚未到期', '即将到期，应安排', '有效期内未完成'].some((w) => cells[4].includes(w)), `the visit status reads ${JSON.stringify(cells[4])}`);
    // The seeded entry whose validity ended in 2023 without a visit comes first, marked overdue.
    const first = await page.$eval('#hv-due tbody tr', (tr) => ({ uscc: tr.dataset.uscc, text: tr.innerText, overdue: tr.classList.contains('overdue') }));
    assert(first.uscc === usccOverdue && first.overdue && first.text.includes('逾期') && first.text.includes('2023/12/01'), `the first row reads ${JSON.stringify(first)}`);
    await translated('#hv-due table');
  });

  await step('the inspector filters the health-check visits by status, agency and due date, and sorts them', async () => {
    const show = async (fields) => {
      await filter('#hvd-filters', '#hv-due', fields);
      return page.$$eval('#hv-due tbody tr', (trs) => trs.map((tr) => ({ uscc: tr.dataset.uscc, health: tr.dataset.health, agency: tr.dataset.agency, due: tr.dataset.due })));
    };
    const everyone = await show({});
    assert(everyone.some((r) => r.uscc === usccNotice) && everyone.some((r) => r.uscc === usccOverdue), `unfiltered rows ${JSON.stringify(everyone)}`);
    const overdue = await show({ health: 'overdue' });
    assert(overdue.length >= 1 && overdue.every((r) => r.health === 'overdue') && overdue.some((r) => r.uscc === usccOverdue)
      && !overdue.some((r) => r.uscc === usccNotice), `overdue only: ${JSON.stringify(overdue)}`);
    assert((await page.innerText('#hvd-count')).includes(String(everyone.length)), 'the count does not say how many there are in all');
    // Due by the end of 2023: only the entry whose validity ended then.
    const by2023 = await show({ health: '', due_by: '2023-12-31' });
    assert(by2023.length === 1 && by2023[0].uscc === usccOverdue, `due by 2023-12-31: ${JSON.stringify(by2023)}`);
    // Latest due first: the 2023 one last.
    const latest = await show({ due_by: '', sort: 'due_desc' });
    assert(latest.length === everyone.length && latest[latest.length - 1].uscc === usccOverdue
      && latest.every((r, i) => i === 0 || Date.parse(latest[i - 1].due) >= Date.parse(r.due)), `latest due first: ${JSON.stringify(latest)}`);
    // The agency the enterprises belong to (the first province) keeps them; a city under it with none of them shows none.
    const province = everyone[0].agency;
    const inProvince = await show({ sort: 'urgent', agency: province });
    assert(inProvince.length === everyone.length && inProvince.every((r) => r.agency === province), `agency ${province}: ${JSON.stringify(inProvince)}`);
    assert((await show({ agency: cityAgency })).length === 0 && await page.$('#hv-due p.empty'), `the city ${cityAgency} has none of the enterprises`);
    await translated('#hvd-filters');
  });

  await step('the approver approves the site visit from the inbox', async () => {
    await signOut();
    await signIn('approver');
    await page.click('#nav-inbox');
    const row = await page.waitForSelector('#inbox-items tr[data-kind=site_visit_to_approve]');
    await (await row.$('a')).click();
    await page.click('#act-approve');
    await page.waitForSelector('#inspections article[data-status=site_visit_approved]');
    assert(!(await page.$('#inspections form.act-self-check')), 'the approver is offered the inspector\'s steps');
  });

  await step('oversight: statistics by month, and the audit chain checked by the administrator', async () => {
    await signOut();
    await signIn('admin');
    await page.click('nav a[href="#/oversight"]');
    const row = await page.waitForSelector('#stats-warnings table tbody tr');
    const cells = await row.$$eval('td', (tds) => tds.map((td) => td.textContent));
    assert(/^\d{4}-\d\d$/.test(cells[0]) && Number(cells[cells.length - 1]) >= 1, `warnings by month: ${JSON.stringify(cells)}`);
    await translated('#stats');
    // Figures per agency and month: the seeded enterprises belong to the first province, the
    // administrator's own agency, whose warnings of this month are counted there.
    await page.click('#agency-stats-link');
    const agencyRow = await page.waitForSelector('#agency-stats table tbody tr.total');
    const figs = await agencyRow.$$eval('td', (tds) => tds.map((td) => td.textContent));
    assert(Number(figs[2]) >= 1 && Number(figs[4]) >= 1, `the agency's totals: ${JSON.stringify(figs)}`);
    await translated('#agency-stats table');
    await page.click('nav a[href="#/oversight"]');
    await page.click('#audit-run');
    const res = await page.waitForSelector('#audit-result p[data-ok]');
    assert((await res.getAttribute('data-ok')) === 'true', `audit check: ${await res.innerText()}`);
    assert((await res.innerText()).includes('审计链完整'), `audit check reads ${JSON.stringify(await res.innerText())}`);
  });

  await step('the administrator lists the registered captures with their processing and ingest', async () => {
    await page.click('nav a[href="#/captures"]');
    await page.waitForSelector('#capture-list table');
    const rows = await page.$$eval('#capture-list tbody tr[data-status=processed]', (trs) => trs.map((tr) => tr.innerText));
    assert(rows.length >= 2 && rows.every((r) => r.includes('哨兵二号卫星') && r.includes('已处理') && r.includes('入库')), `capture rows read ${JSON.stringify(rows)}`);
    assert(rows.some((r) => r.includes('s2/ui-0.tif')) && rows.some((r) => r.includes('s2/ui-1.tif')), 'the seeded captures are not listed by key');
    await translated('#capture-list table');
    assert(await page.$('#cl-register[href="#/manage"]'), 'no way to register a capture from the list');
    // Newest first; filtered by status and kind, and by acquisition date.
    const keys = await page.$$eval('#capture-list tbody tr code', (cs) => cs.map((c) => c.textContent));
    assert(keys.indexOf('s2/ui-1.tif') < keys.indexOf('s2/ui-0.tif'), `captures not newest first: ${JSON.stringify(keys)}`);
    await filter('#cl-filters', '#capture-list', { status: 'processed', kind: 'sentinel2' });
    const shown = await page.$$eval('#capture-list tbody tr', (trs) => trs.map((tr) => ({ status: tr.dataset.status, key: tr.querySelector('code').textContent })));
    assert(shown.length >= 2 && shown.every((c) => c.status === 'processed') && shown.some((c) => c.key === 's2/ui-0.tif')
      && (await page.innerText('#capture-list .pager')).includes(String(shown.length)), `processed Sentinel-2 captures: ${JSON.stringify(shown)}`);
    // Acquired before the first seeded capture (60 days ago): neither.
    const before = new Date(Date.now() - 90 * 86400e3).toISOString().slice(0, 10);
    await filter('#cl-filters', '#capture-list', { to: before });
    assert(!(await page.$$eval('#capture-list tbody tr code', (cs) => cs.map((c) => c.textContent))).some((k) => k.startsWith('s2/ui-')),
      `captures acquired by ${before} list the seeded ones`);
  });

  await step('the administrator draws with a given seed; the draw is listed with its seed and public page', async () => {
    await page.click('nav a[href="#/draws"]');
    await page.waitForSelector('#draw-list :is(.empty, article)');
    const before = (await page.$$('#draw-list article.draw')).length;
    // A seed that is not 16 hex digits is refused by the form before it reaches the API.
    await page.fill('#draw-form input[name=seed]', '00112233445566ff');
    await page.fill('#draw-form textarea[name=inspectors]', 'zhang\nli\nwang: ' + uscc);
    await page.click('#draw-form button[type=submit]');
    await page.waitForFunction((n) => document.querySelectorAll('#draw-list article.draw').length === n + 1, before);
    const seed = await page.$eval('#draw-list article.draw .seed .hash', (e) => e.title);
    assert(seed === '00112233445566ff', `the new draw shows the seed ${JSON.stringify(seed)}`);
    for (const tag of await page.$$('#draw-list article.draw:first-child dd .tag')) {
      const s = await tag.innerText();
      assert(!/\b(special|ordinary|listed)\b/.test(s), `a group is shown untranslated: ${s}`);
    }
    await translated('#draw-list article.draw table');
    // The published algorithm is described in Chinese, the server's text one click away.
    const alg = await page.$eval('#draw-list article.draw dd.algorithm', (dd) => ({ text: dd.firstChild.textContent, original: dd.querySelector('details code')?.textContent || '' }));
    assert(alg.text.includes('待抽取企业') && alg.original.startsWith('splitmix64/v1: pool sorted'), `the draw algorithm reads ${JSON.stringify(alg)}`);
  });

  await step('registering a capture whose file is not in the bucket is refused in words', async () => {
    await page.click('nav a[href="#/manage"]');
    await page.waitForSelector('#mg-capture-form');
    await page.fill('#mg-capture-form input[name=acquired_at]', '2026-05-01T10:30');
    await page.fill('#mg-capture-form input[name=key]', 'cog/not-allowed.tif');
    await page.click('#mg-capture-form button[type=submit]');
    const err = await (await page.waitForSelector('#mg-capture .error')).innerText();
    assert(err.includes('“存储键”填写有误'), `refused capture reads ${JSON.stringify(err)}`);
  });

  await step('the administrator assigns an unknown MN kept in quarantine to the enterprise and releases its frames; their values appear in its chart', async () => {
    const qmn = env('OFFSITE_UI_QUARANTINE_MN');
    const row = `#quarantine-table tr[data-mn="${qmn}"]`;
    const chart = `#monitoring article.mon-point[data-mn="${qmn}"] img.mon-chart`;
    // The pixels of the chart drawn in the series' colour (monitoring.chartLine): none without values.
    const seriesPixels = async () => {
      await page.waitForFunction((sel) => { const i = document.querySelector(sel); return i && i.src && i.complete && i.naturalWidth > 0; }, chart);
      return page.$eval(chart, (img) => {
        const c = document.createElement('canvas');
        c.width = img.naturalWidth;
        c.height = img.naturalHeight;
        const g = c.getContext('2d');
        g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] === 31 && d[i + 1] === 94 && d[i + 2] === 168) n++;
        return n;
      });
    };
    await go('/admin');
    const frames = async () => (await (await page.waitForSelector(`${row} td:nth-child(3)`)).innerText()).trim();
    const text = await (await page.waitForSelector(row)).innerText();
    assert(text.includes('未登记') && await frames() === '6', `the quarantined MN's row reads ${JSON.stringify(text)}`);
    assert(!(await page.$(`${row} .release-quarantine`)), 'frames of an MN no point is registered for can be released');
    await translated('#quarantine-table');
    // Assigned: the MN registered as the enterprise's point with the password its logger sends.
    await go(`/enterprises/${uscc}`);
    await page.click('#monitoring details.mon-form:has(.mon-point-form) > summary');
    for (const [name, value] of [['mn', qmn], ['outlet', 'DA001'], ['name', '锅炉排口'], ['lon', '117.0'], ['lat', '31.6'], ['password', env('OFFSITE_UI_QUARANTINE_PW')]]) {
      await page.fill(`#monitoring .mon-point-form input[name=${name}]`, value);
    }
    await page.click('#monitoring .mon-point-form button[type=submit]');
    assert(await seriesPixels() === 0, 'the new point\'s chart shows values before its frames are released');
    await go('/admin');
    await page.waitForSelector(`${row} a[href="#/enterprises/${uscc}"]`);
    await page.click(`${row} .release-quarantine`);
    const ok = await (await page.waitForSelector('#quarantine p.ok')).innerText();
    assert(ok.includes('已释放 5 条') && ok.includes('1 条密码不符仍隔离'), `the release reads ${JSON.stringify(ok)}`);
    assert(await frames() === '1', `after the release the row counts ${await frames()} frames, want the 1 with another password`);
    await go(`/enterprises/${uscc}`);
    const n = await seriesPixels();
    assert(n > 20, `the released values do not appear in the point's chart (${n} pixels of the series)`);
  });

  await step('the analysis finds the gap in the released values; from the gap event the administrator asks the logger to send its hours again', async () => {
    const qmn = env('OFFSITE_UI_QUARANTINE_MN');
    // The test queues the analysis once the values are released; the event comes when it ran.
    const gapRow = `#monitoring table.mon-events tr[data-rule="gap_while_running"]`;
    for (let i = 0; !(await page.$(gapRow)); i++) {
      assert(i < 60, 'no gap event on the enterprise page after the release');
      await page.waitForTimeout(500);
      await page.reload();
      await page.waitForSelector('#monitoring h3');
    }
    const finding = await page.getAttribute(gapRow, 'data-id');
    await page.click(`${gapRow} button.request-data`);
    await page.waitForSelector(`${gapRow} .request-queued`);
    const rs = await page.evaluate(async (mn) => (await (await fetch(`/api/v1/monitoring/points/${mn}/data-requests`)).json()).data_requests, qmn);
    assert(rs.length === 1 && rs[0].cn === '2061' && rs[0].finding_id === finding && !rs[0].sent_at, `data requests ${JSON.stringify(rs)}`);
    // The gap is the three hours between the released values: 11, 10, 9 hours ago, then 5 and 4.
    const hours = (Date.parse(rs[0].end_time) - Date.parse(rs[0].begin_time)) / 3600e3;
    assert(hours === 2, `the request asks for ${hours + 1} hours (${rs[0].begin_time} – ${rs[0].end_time}), want the gap's 3`);
    await page.click(`#monitoring article.mon-point[data-mn="${qmn}"] details.mon-requests > summary`);
    const li = await (await page.waitForSelector(`#monitoring article.mon-point[data-mn="${qmn}"] details.mon-requests li`)).innerText();
    assert(li.includes('CN 2061') && li.includes('待发送'), `the point's data requests read ${JSON.stringify(li)}`);
  });

  await step('the public list answers without signing in; English is a click away', async () => {
    await signOut();
    await go('/public');
    await page.waitForSelector('#public-list :is(table, .empty)');
    await page.waitForSelector('#public-disclosures :is(table, .empty)');
    const notices = await (await page.waitForSelector('#public-notices table')).innerText();
    assert(notices.includes(uscc), 'the public page does not show the enterprise on notice');
    await page.click('#lang');
    await page.waitForSelector('text=Positive list of law-abiding enterprises');
    await page.click('#lang');
  });

  assert(captureReads.every((u) => u.includes('?ids=')), `capture labels read one by one: ${JSON.stringify(captureReads)}`);
  console.log(`    capture label reads: ${captureReads.length}`);
  assert(!foreign.length, `requests left the API's origin: ${foreign.join(', ')}`);
  assert(!problems.length, `the page reported errors:\n${problems.join('\n')}`);
} catch (e) {
  failed = e;
  mkdirSync(shots, { recursive: true });
  const file = join(shots, current.replace(/[^\p{L}\p{N}]+/gu, '-').slice(0, 80) + '.png');
  await page.screenshot({ path: file, fullPage: true }).catch(() => {});
  writeFileSync(join(shots, 'problems.txt'), [`step: ${current}`, String(e && e.stack), ...problems, ...foreign].join('\n'));
  console.error(`FAIL ${current}: ${e && e.message}\nscreenshot: ${file}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
