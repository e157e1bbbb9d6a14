// The console's shell: sign-in with the master key, then one page module per hash route.
// Every number a page shows comes from the gateway's admin API.
import { ApiError, api, session, whenUnauthorized } from './api.js';
import { field, h, say } from './dom.js';
import * as audit from './pages/audit.js';
import * as catalog from './pages/catalog.js';
import * as config from './pages/config.js';
import * as deployments from './pages/deployments.js';
import * as keys from './pages/keys.js';
import * as logs from './pages/logs.js';
import * as subscriptions from './pages/subscriptions.js';
import * as usage from './pages/usage.js';

const PAGES = { usage, logs, catalog, keys, subscriptions, deployments, config, audit };
const TITLES = {
  usage: 'Usage',
  logs: 'Request log',
  catalog: 'Catalog',
  keys: 'Keys and teams',
  subscriptions: 'Subscriptions',
  deployments: 'Deployments',
  config: 'Runtime config',
  audit: 'Audit log',
};

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOutButton = document.getElementById('sign-out');
let unmount;

function clear() {
  unmount?.();
  unmount = undefined;
  main.replaceChildren();
}

function showSignIn(message) {
  clear();
  nav.hidden = true;
  signOutButton.hidden = true;
  document.title = 'Sign in · Konnect console';
  const input = h('input', { type: 'password', name: 'master_key', autocomplete: 'off', required: true });
  const status = h('p', { class: 'notice', role: 'alert', hidden: true });
  if (message) say(status, message, 'error');
  const form = h(
    'form',
    {
      class: 'card sign-in',
      'aria-labelledby': 'sign-in-h',
      onsubmit: async (event) => {
        event.preventDefault();
        const key = input.value.trim();
        try {
          // Any admin read proves the key; this one is cheap.
          await api('/admin/deployments', { key });
        } catch (err) {
          say(status, err instanceof ApiError && err.status === 401 ? 'That is not the master key.' : `Sign-in failed: ${err.message}`, 'error');
          input.select();
          return;
        }
        session.signIn(key);
        route();
      },
    },
    h('h1', { id: 'sign-in-h', text: 'Sign in' }),
    h('p', { text: 'The console uses the gateway’s admin API with the master key (GATEWAY_MASTER_KEY). It is kept in this tab only, until you sign out or close it.' }),
    field('Master key', input),
    status,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', text: 'Sign in' })),
  );
  main.append(form);
  input.focus();
}

function route() {
  if (!session.key) {
    showSignIn();
    return;
  }
  const name = location.hash.replace(/^#\/?/, '').split('?')[0] || 'usage';
  if (!PAGES[name]) {
    location.hash = '#/usage';
    return;
  }
  clear();
  nav.hidden = false;
  signOutButton.hidden = false;
  for (const link of nav.querySelectorAll('a')) {
    if (link.getAttribute('href') === `#/${name}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${TITLES[name]} · Konnect console`;
  unmount = PAGES[name].mount(main);
  main.focus({ preventScroll: true });
}

signOutButton.addEventListener('click', () => {
  session.signOut();
  showSignIn();
});
whenUnauthorized(() => {
  session.signOut();
  showSignIn('The gateway no longer accepts this key: sign in again.');
});
window.addEventListener('hashchange', route);
route();
