// The API client: the session of the signed-in user (an HttpOnly cookie the page never sees,
// and the CSRF token sent with every unsafe request), JSON in and out, and errors turned into
// sentences a person understands (ApiError.message), with the server's own words kept as
// detail.
import { getLang, t, tk } from './i18n';

export interface Me {
  name: string;
  display_name?: string;
  role: string;
  uscc?: string;
  user_id?: number;
  agency_id?: number;
  csrf_token?: string;
  operations: string[];
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

let me: Me | null = null;
let pending = 0;

export function currentUser(): Me | null {
  return me;
}

// can reports whether the signed-in role may call "METHOD /path/{pattern}".
export function can(op: string): boolean {
  return !!me && me.operations.includes(op);
}

function busy(delta: number): void {
  pending += delta;
  const el = document.getElementById('busy');
  if (el) el.hidden = pending === 0;
}

// problem reads an error body: RFC 7807 application/problem+json ({title, detail, field}
// or errors[0].field), or the older {error: {code, message, field}}.
function problem(body: any): { code?: string; message?: string; field?: string } {
  if (!body || typeof body !== 'object') return {};
  if (body.error && typeof body.error === 'object') return body.error;
  const field = body.field || body['invalid-params']?.[0]?.name || body.errors?.[0]?.field;
  return { code: body.code || (body.type && body.type !== 'about:blank' ? String(body.type) : undefined),
    message: body.detail || body.title, field };
}

// humanError turns a failed response into words, in the user's language.
export function humanError(status: number, body: any): ApiError {
  const e = problem(body);
  const detail: string = e.message || (typeof body === 'string' ? body : '');
  let msg: string;
  switch (status) {
    case 0:
      msg = t('err_network');
      break;
    case 400:
      msg = e.field ? t('err_400_field', { field: tk('field_', e.field) }) : t('err_400');
      break;
    case 401:
      msg = t('err_401');
      break;
    case 403:
      msg = t('err_403', { role: tk('role_', me?.role || 'public') });
      break;
    case 404:
      msg = t('err_404');
      break;
    case 409:
      msg = t('err_409');
      break;
    case 413:
      msg = t('err_413');
      break;
    case 429:
      msg = t('err_429');
      break;
    case 503:
      msg = t('err_503');
      break;
    default:
      msg = t('err_500');
  }
  return new ApiError(msg, status, e.code || String(status), detail, e.field);
}

const safeMethods = ['GET', 'HEAD', 'OPTIONS'];

// send calls the API on the session; a Blob body goes as it is, anything else as JSON.
async function send(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Response> {
  // The server writes its problem details (and other fixed sentences) in this language.
  const headers: Record<string, string> = { 'Accept-Language': getLang() === 'zh' ? 'zh-CN' : 'en', ...extra };
  if (me?.csrf_token && !safeMethods.includes(method)) headers['X-CSRF-Token'] = me.csrf_token;
  const raw = body instanceof Blob;
  if (body !== undefined && !raw) headers['Content-Type'] = 'application/json';
  busy(1);
  try {
    return await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : raw ? body : JSON.stringify(body) });
  } catch {
    throw humanError(0, null);
  } finally {
    busy(-1);
  }
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const resp = await send(method, path, body);
  const text = await resp.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!resp.ok) {
    if (resp.status === 401 && me) me = null; // the session ended
    throw humanError(resp.status, data);
  }
  return data as T;
}

// signIn opens a session with name and password; the API sets the session cookie.
export async function signIn(name: string, password: string): Promise<Me> {
  const resp = await send('POST', '/api/v1/login', { name, password });
  const data = await resp.json().catch(() => null);
  if (!resp.ok) throw humanError(resp.status, data);
  me = data as Me;
  return me;
}

// restore reads the user of the session cookie, if any; null when there is none.
export async function restore(): Promise<Me | null> {
  const resp = await send('GET', '/api/v1/me');
  const data = await resp.json().catch(() => null);
  if (resp.status === 401) return null;
  if (!resp.ok) throw humanError(resp.status, data);
  me = data as Me;
  return me;
}

// signOut ends the session on the server, then here.
export async function signOut(navigate = true): Promise<void> {
  if (me?.csrf_token) {
    await send('POST', '/api/v1/logout').catch(() => undefined);
  }
  me = null;
  if (navigate) location.hash = '#/signin';
}

// evidencePath is where an evidence object is read: its key under the staff's evidence
// route, or, for an enterprise, the path its inspection names (GET
// /api/v1/inspections/{id}/evidence answers with one per artifact), passed as the key.
function evidencePath(key: string): string {
  return key.startsWith('/api/') ? key : '/api/v1/ui/evidence/' + key;
}

// blob fetches an evidence object on the session; the caller revokes the URL.
export async function evidenceURL(key: string): Promise<string> {
  const resp = await send('GET', evidencePath(key));
  if (!resp.ok) throw humanError(resp.status, await resp.json().catch(() => null));
  return URL.createObjectURL(await resp.blob());
}

// evidenceBytes fetches an evidence object's bytes (a clip COG to decode in the page).
export async function evidenceBytes(key: string): Promise<ArrayBuffer> {
  const resp = await send('GET', evidencePath(key));
  if (!resp.ok) throw humanError(resp.status, await resp.json().catch(() => null));
  return resp.arrayBuffer();
}

// blobURL fetches any image the API serves (a monitoring chart) with the token; the caller
// revokes the URL.
export async function blobURL(path: string): Promise<string> {
  const resp = await send('GET', path);
  if (!resp.ok) throw humanError(resp.status, await resp.json().catch(() => null));
  return URL.createObjectURL(await resp.blob());
}

// evidenceHead reads the first `end` bytes of an evidence object (a Range request; the API
// may answer with the whole object).
export async function evidenceHead(key: string, end: number): Promise<ArrayBuffer> {
  const resp = await send('GET', evidencePath(key), undefined, { Range: `bytes=0-${end - 1}` });
  if (!resp.ok) throw humanError(resp.status, await resp.json().catch(() => null));
  return resp.arrayBuffer();
}

// download saves an evidence object under its name (audited by the API).
export async function download(key: string): Promise<void> {
  await save(key.startsWith('/api/') ? key : evidencePath(key) + '?download=true', key.split('/').pop() || 'evidence');
}

// Proof is a document uploaded for an inspection's self-check, as the API describes it.
export interface Proof { name: string; key: string; size: number; sha256: string; media_type: string }

function proofPath(inspection: number, name: string): string {
  return `/api/v1/ui/inspections/${inspection}/proofs/${encodeURIComponent(name)}`;
}

// uploadProof sends a file through the API, which stores it and answers with its SHA-256.
export async function uploadProof(inspection: number, file: File): Promise<Proof> {
  const resp = await send('PUT', proofPath(inspection, file.name), file, { 'Content-Type': file.type || 'application/octet-stream' });
  const data = await resp.json().catch(() => null);
  if (!resp.ok) throw humanError(resp.status, data);
  return data as Proof;
}

// downloadProof saves a proof document (audited by the API).
export async function downloadProof(inspection: number, name: string): Promise<void> {
  await save(proofPath(inspection, name), name);
}

async function save(path: string, name: string): Promise<void> {
  const resp = await send('GET', path);
  if (!resp.ok) throw humanError(resp.status, await resp.json().catch(() => null));
  const url = URL.createObjectURL(await resp.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
