// captureLabel shows a capture by its acquisition date and sensor ("2026-05-01 哨兵二号卫星")
// instead of its number. It reads GET /api/v1/captures/{id} once per capture; a role that
// may not read captures, or a failed read, keeps "#id" (with the number in the tooltip
// either way).
import { api, can } from './api';
import { fmtDate, t, tk } from './i18n';
import { h } from './ui';

interface CaptureInfo { id: number; kind: string; acquired_at: string; sensor?: string }

const cache = new Map<number, Promise<CaptureInfo | null>>();

function info(id: number): Promise<CaptureInfo | null> {
  let p = cache.get(id);
  if (!p) {
    p = can('GET /api/v1/captures/{id}') ? api<CaptureInfo>('GET', `/api/v1/captures/${id}`).catch(() => null) : Promise.resolve(null);
    cache.set(id, p);
  }
  return p;
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
