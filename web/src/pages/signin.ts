import { signIn } from '../api';
import { t } from '../i18n';
import { field, form, h } from '../ui';

export async function signinPage(app: HTMLElement, _p: string[], q: URLSearchParams): Promise<void> {
  const input = h('input', { type: 'password', name: 'token', id: 'token', required: true, autocomplete: 'current-password', size: 40 });
  app.append(h('section', { class: 'card narrow' },
    h('h1', {}, t('signin_title')),
    h('p', { class: 'muted' }, t('signin_help')),
    form([field(t('token'), input)], t('signin'), async (v) => {
      const me = await signIn(v.token.trim());
      const next = q.get('next');
      location.hash = next ? '#' + next : me.role === 'enterprise' && me.uscc ? '#/enterprises/' + me.uscc : '#/enterprises';
    }, { id: 'signin-form' }),
    h('p', {}, h('a', { href: '#/public' }, t('signin_public')))));
  input.focus();
}
