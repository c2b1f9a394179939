// Messages the server writes in English, shown in the user's language: a warning's text is
// rebuilt from its parts where it has the server's fixed form (the phrases are in vocab.ts,
// msg_*), and a draw's published algorithm is described by its version (alg_*). Text the
// server took from a person (a complaint's summary, an incident's description) is shown as
// written; a form not known here is shown as the server wrote it.
import { fmtDate, getLang, t, tk } from './i18n';
import { msgcatalog } from './msgcatalog';
import { vocab } from './vocab';

// Msg is a sentence of the server's message catalog (internal/msgs): a code and its
// arguments, e.g. a positive-list reason's detail_message.
export interface Msg { code: string; args?: Record<string, string> }

// argVocab names the arguments that are domain codes: they are translated under the
// vocabulary prefix given here.
const argVocab: Record<string, string> = { fact: 'fact_', field: 'field_', trigger: 'tr_', decision: 'ext_', outcome: 'wo_', kind: 'kind_', cls: 'cls_' };

// argDates are the arguments that are times (RFC 3339), shown as dates in the user's language.
const argDates = ['deadline', 'until'];

// msgText renders a catalog message in the user's language; fallback (the server's English
// text) when there is none or the code is not in the catalog this page was built with.
export function msgText(m: Msg | null | undefined, fallback = ''): string {
  const e = m ? msgcatalog[m.code] : undefined;
  if (!m || !e) return fallback;
  let s = e[getLang() === 'zh' ? 0 : 1];
  for (const [k, v] of Object.entries(m.args || {})) {
    const val = argVocab[k] ? tk(argVocab[k], v)
      : argDates.includes(k) && v.includes('T') ? fmtDate(v, true)
        : v === 'true' || v === 'false' ? t('bool_' + v) : v;
    s = s.split(`{${k}}`).join(val);
  }
  return s;
}

interface Warning { source: string; ref: string; message: string; summary_message?: Msg }

export function warningText(w: Warning): string {
  const m = w.message || '';
  let r: RegExpMatchArray | null;
  // enforce (commands.go): "finding <id>: <kind> <class>"
  if (w.source === 'finding' && (r = m.match(/^finding (\S+): ([a-z0-9_-]+) ([a-z0-9_-]+)$/)) && r[1] === w.ref) {
    return t('msg_finding', { ref: r[1], kind: tk('kind_', r[2]), cls: tk('cls_', r[3]) });
  }
  // worker (monitoring_analysis.go): "monitoring <class>: <summary>"
  if ((r = m.match(/^monitoring ([a-z0-9_]+): ([\s\S]*)$/))) return t('msg_monitoring', { cls: tk('cls_', r[1]), summary: msgText(w.summary_message, r[2]) });
  // enforce (intake.go): "reported by the enterprise: <description>"
  if (w.source === 'self_report' && (r = m.match(/^reported by the enterprise: ([\s\S]*)$/))) return t('msg_self_report', { text: r[1] });
  // enforce (intake.go): "<source> (<source ref>): <summary>"
  if ((r = m.match(/^([a-z_]+) \((.*?)\): ([\s\S]*)$/)) && r[1] === w.source) return t('msg_intake', { source: tk('tr_', r[1]), ref: r[2], summary: r[3] });
  return m;
}

// algorithmText describes a draw's algorithm in the user's language when the published text
// is the one vocab.ts translates (alg_<version>, its English the server's text exactly, which
// internal/webui's tests hold to enforce.DrawAlgorithm); else null, and the caller shows the
// published text as it is.
export function algorithmText(published: string): string | null {
  const e = vocab['alg_' + published.split(':', 1)[0]];
  return e && e[1] === published ? t('alg_' + published.split(':', 1)[0]) : null;
}
