// Small DOM helpers: h() builds elements, errorBox() shows an ApiError in words.
import { ApiError } from './api';
import { t } from './i18n';

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, any>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') (el as any)[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

// errorBox shows an error as a sentence, the server's words folded under "details".
export function errorBox(err: unknown, onRetry?: () => void): HTMLElement {
  const e = err instanceof ApiError ? err : null;
  const msg = e ? e.message : t('err_500');
  const detail = e ? e.detail : String(err);
  return h('div', { class: 'error', role: 'alert' },
    h('p', {}, msg),
    detail ? h('details', {}, h('summary', {}, t('err_detail')), h('code', {}, detail)) : null,
    onRetry ? h('button', { type: 'button', onclick: onRetry }, t('retry')) : null);
}

// run calls fn for a button: it disables the button meanwhile and shows an error under it.
export function action(label: string, fn: () => Promise<void>, attrs: Attrs = {}): HTMLElement {
  const out = h('span', { class: 'action-out' });
  const btn = h('button', {
    type: 'button', ...attrs, onclick: async () => {
      btn.disabled = true;
      clear(out);
      try {
        await fn();
      } catch (e) {
        clear(out, errorBox(e));
      } finally {
        btn.disabled = false;
      }
    },
  }, label);
  return h('span', { class: 'action' }, btn, out);
}

// form builds a small inline form; submit gets the values by name and shows errors in it.
export function form(fields: HTMLElement[], label: string, submit: (v: Record<string, string>, f: HTMLFormElement) => Promise<void>, attrs: Attrs = {}): HTMLFormElement {
  const out = h('div', { class: 'form-out' });
  const btn = h('button', { type: 'submit' }, label);
  const f = h('form', {
    class: 'inline-form', ...attrs, onsubmit: async (ev: Event) => {
      ev.preventDefault();
      btn.disabled = true;
      clear(out);
      markField(f, null);
      const v: Record<string, string> = {};
      new FormData(f).forEach((val, k) => (v[k] = String(val)));
      try {
        await submit(v, f);
      } catch (e) {
        clear(out, errorBox(e));
        if (e instanceof ApiError && e.status === 400) markField(f, e);
      } finally {
        btn.disabled = false;
      }
    },
  }, fields, btn, out);
  return f;
}

// markField shows the server's words next to the input of the field it refused (an input
// named as the field, or one whose data-field names it), or clears what an earlier refusal
// marked when e is null.
export function markField(f: HTMLElement, e: ApiError | null): void {
  for (const el of f.querySelectorAll('.field-error')) el.remove();
  for (const el of f.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  if (!e || !e.field) return;
  // "features[0].geometry" is shown at the input whose data-field lists "features".
  const name = e.field.replace(/["\\]/g, '');
  const root = name.split(/[.[]/)[0];
  const input = f.querySelector<HTMLElement>(`[data-field="${name}"], [name="${name}"]`) || f.querySelector<HTMLElement>(`[data-field~="${root}"]`);
  if (!input) return;
  input.setAttribute('aria-invalid', 'true');
  const msg = h('span', { class: 'field-error', role: 'alert', dataset: { field: name } }, e.detail || e.message);
  (input.closest('label.field') || input).after(msg);
  input.focus();
}

export function field(label: string, input: HTMLElement): HTMLElement {
  return h('label', { class: 'field' }, h('span', {}, label), input);
}

export function select(name: string, options: [string, string][], value = '', attrs: Attrs = {}): HTMLSelectElement {
  return h('select', { name, ...attrs }, options.map(([v, l]) => h('option', { value: v, selected: v === value }, l)));
}

export function loading(): HTMLElement {
  return h('p', { class: 'loading' }, t('loading'));
}

// copyable shows a hash shortened, with a button that copies it whole.
export function copyable(text: string, short = 12): HTMLElement {
  const b = h('button', { type: 'button', class: 'copy', title: t('copy') }, t('copy'));
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = t('copied');
    } catch {
      /* clipboard refused (not a secure context): the full value is in the title */
    }
  });
  return h('span', { class: 'hash', title: text }, h('code', {}, text.length > short ? text.slice(0, short) + '…' : text), ' ', b);
}

// filterForm is the filters of a list page: submitting it opens route with the fields filled
// in as its query (a new first page); reset opens route bare.
export function filterForm(route: string, id: string, ...fields: HTMLElement[]): HTMLFormElement {
  const f: HTMLFormElement = h('form', {
    class: 'filters', id, onsubmit: (ev: Event) => {
      ev.preventDefault();
      const next = new URLSearchParams();
      new FormData(f).forEach((v, k) => { if (String(v).trim()) next.set(k, String(v).trim()); });
      location.hash = route + '?' + next.toString();
    },
  }, fields, h('button', { type: 'submit' }, t('search')), h('a', { href: route, class: 'button secondary' }, t('reset')));
  return f;
}

// pager links the pages around the one shown (shown items from offset, of total) of the list
// at route with query q.
export function pager(route: string, q: URLSearchParams, offset: number, pageSize: number, shown: number, total: number): HTMLElement {
  const pageLink = (off: number, label: string) => {
    const p = new URLSearchParams(q);
    p.set('offset', String(off));
    return h('a', { href: route + '?' + p.toString(), class: 'button secondary' }, label);
  };
  return h('div', { class: 'pager' },
    offset > 0 ? pageLink(Math.max(0, offset - pageSize), t('prev')) : null,
    h('span', {}, t('page_of', { from: offset + 1, to: offset + shown, total })),
    offset + pageSize < total ? pageLink(offset + pageSize, t('next')) : null);
}
