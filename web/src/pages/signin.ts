import { signIn } from '../api';
import { t } from '../i18n';
import { field, form, h } from '../ui';

export async function signinPage(app: HTMLElement, _p: string[], q: URLSearchParams): Promise<void> {
  const name = h('input', { type: 'text', name: 'name', id: 'name', required: true, autocomplete: 'username', size: 30 });
  const password = h('input', { type: 'password', name: 'password', id: 'password', required: true, autocomplete: 'current-password', size: 30 });
  app.append(h('section', { class: 'card narrow' },
    h('h1', {}, t('signin_title')),
    h('p', { class: 'muted' }, t('signin_help')),
    form([field(t('username'), name), field(t('password'), password)], t('signin'), async (v) => {
      const me = await signIn(v.name.trim(), v.password);
      const next = q.get('next');
      location.hash = next ? '#' + next : me.role === 'enterprise' && me.uscc ? '#/enterprises/' + me.uscc : me.role === 'admin' ? '#/admin' : '#/enterprises';
    }, { id: 'signin-form' }),
    h('p', {}, h('a', { href: '#/public' }, t('signin_public')))));
  name.focus();
}
