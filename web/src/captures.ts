// captureLabel shows a capture by its acquisition date and sensor ("2026-05-01 哨兵二号卫星")
// instead of its number. The labels made while a page renders are read together, with one
// GET /api/v1/captures?ids=… (of up to 1000 captures); a role that may not list captures, or
// a failed read, keeps "#id" (with the number in the tooltip either way).
import { api, can } from './api';
import { fmtDate, t, tk } from './i18n';
import { h } from './ui';

interface CaptureInfo { id: number; kind: string; acquired_at: string; sensor?: string }

const cache = new Map<number, Promise<CaptureInfo | null>>();
// waiting are the captures asked for since the last read, with what resolves each.
let waiting = new Map<number, (c: CaptureInfo | null) => void>();
const maxIDs = 1000; // the route's limit

function info(id: number): Promise<CaptureInfo | null> {
  let p = cache.get(id);
  if (!p) {
    p = can('GET /api/v1/captures')
      ? new Promise((resolve) => {
        if (!waiting.size) window.setTimeout(readWaiting, 0);
        waiting.set(id, resolve);
      })
      : Promise.resolve(null);
    cache.set(id, p);
  }
  return p;
}

// readWaiting reads the waiting captures, up to maxIDs a request.
function readWaiting(): void {
  const batch = waiting;
  waiting = new Map();
  const ids = [...batch.keys()];
  for (let i = 0; i < ids.length; i += maxIDs) {
    const part = ids.slice(i, i + maxIDs);
    api<{ captures: CaptureInfo[] }>('GET', `/api/v1/captures?ids=${part.join(',')}&limit=${part.length}`)
      .then((res) => {
        const byID = new Map((res.captures || []).map((c) => [c.id, c]));
        for (const id of part) batch.get(id)!(byID.get(id) || null);
      })
      .catch(() => { for (const id of part) batch.get(id)!(null); });
  }
}

export function captureText(c: CaptureInfo): string {
  const kind = tk('cap_', c.kind);
  return t('capture_label', { date: fmtDate(c.acquired_at), kind: c.sensor && c.sensor !== c.kind ? `${kind} (${c.sensor})` : kind });
}

export function captureLabel(id: number): HTMLElement {
  const el = h('span', { class: 'capture-label', title: `#${id}`, dataset: { capture: String(id) } }, `#${id}`);
  info(id).then((c) => { if (c) el.textContent = captureText(c); });
  return el;
}
