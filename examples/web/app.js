// The support-access demo: an Atlas-style support-access console whose every decision and every
// change goes through the WebAssembly core (bindings/wasm). This file only draws and forwards:
// no rule about who may do what, or what a grant covers, is written here.
//
// Two modes. On its own, the page keeps its record in localStorage. Live
// (`?service=http://127.0.0.1:8787&org=acme&token=T[&trust=sa-ed25519-pub:…]`), it is a client of
// a running `support-access serve`: it loads the organization's record through the API, keeps the
// WebAssembly core in step through the events stream (countdowns and "ask as support" are
// answered locally), sends grants, revokes and the setting to the service as the Atlas Admin API
// operations, and verifies the record against the checkpoints the service signs.
import { Policy, SupportAccessError } from '../../bindings/wasm/js/index.js';

const params = new URLSearchParams(location.search);
/** Set in live mode: where the service is, which organization, the bearer token. */
const LIVE = params.get('service')
  ? { service: params.get('service').replace(/\/+$/, ''), org: params.get('org') ?? 'acme', token: params.get('token') ?? '', trust: params.get('trust') }
  : null;

const STORE_KEY = 'support-access-demo/record';
const ACTOR_KEY = 'support-access-demo/actor';

const ACTORS = {
  alice: { id: 'alice', roles: [{ role: 'ORG_OWNER' }] },
  paula: { id: 'paula', roles: [{ role: 'PROJECT_OWNER', projectId: 'payments' }] },
  sam: { id: 'sam', roles: [{ role: 'PROJECT_SUPPORT_ACCESS_MANAGER', projectId: 'payments' }] },
  rita: { id: 'rita', roles: [{ role: 'PROJECT_READ_ONLY', projectId: 'payments' }] },
};

const PROJECT_NAMES = { payments: 'Payments', analytics: 'Analytics' };

const GRANT_LABEL = {
  CLUSTER_INFRASTRUCTURE: 'Infrastructure + all cluster logs',
  CLUSTER_DATABASE_LOGS: 'Database logs only',
  CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA: 'Infrastructure + App Services sync data',
};

const REASON_TEXT = {
  CLUSTER_NOT_FOUND: 'no such cluster',
  DATABASE_DATA_NEVER_ACCESSIBLE: 'no grant ever gives support read access to your documents',
  SYNC_DATA_REQUIRES_GRANT: 'App Services sync data needs an active sync-data grant, whatever the org setting',
  ORG_UNRESTRICTED: 'the organization does not block support access',
  GRANT_ACTIVE: 'an active grant covers it',
  NOT_COVERED_BY_GRANT: 'the active grant does not cover this resource',
  GRANT_EXPIRED: 'the last grant has expired',
  GRANT_REVOKED: 'the last grant was revoked',
  NO_GRANT: 'support access is blocked and this cluster never granted it',
};

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
};

let policy;
let menuCluster = null;
let shownGrants = new Set(); // clusters whose row shows an active grant (to notice expiry)

// ----- the policy and its record -----

function seed() {
  const p = new Policy({ orgId: 'org-demo', restrictEmployeeAccess: true });
  const owner = ACTORS.alice;
  const now = Date.now();
  p.addProject(owner, 'payments', now);
  p.addProject(owner, 'analytics', now);
  p.addCluster(owner, 'payments', 'Cluster0', {}, now);
  p.addCluster(owner, 'payments', 'orders-prod', { appServicesSyncEnabled: true }, now);
  p.addCluster(owner, 'analytics', 'reporting', {}, now);
  p.addCluster(owner, 'analytics', 'analytics-flex', { kind: 'FLEX' }, now);
  return p;
}

function load() {
  const stored = localStorage.getItem(STORE_KEY);
  if (stored) {
    try {
      const p = Policy.replay(stored);
      const n = Policy.verifyRecord(stored);
      document.body.dataset.replayed = String(n);
      toast(`Replayed the saved record: ${n} events, chain intact.`);
      return p;
    } catch (e) {
      localStorage.setItem(`${STORE_KEY}.rejected`, stored);
      document.body.dataset.rejected = e instanceof SupportAccessError ? `${e.code}${e.seq ? ` ${e.seq}` : ''}` : 'error';
      toast(`The saved record was rejected (${describeError(e)}); starting a fresh demo.`, 'bad');
    }
  }
  const p = seed();
  save(p);
  return p;
}

function save(p = policy) {
  localStorage.setItem(STORE_KEY, p.exportRecord());
}

function actor() {
  // Live, who is asking is the token's actor, and the service decides: the page offers everything.
  return LIVE ? ACTORS.alice : ACTORS[$('actor').value];
}

function describeError(e) {
  if (e instanceof SupportAccessError || e instanceof ServiceError) {
    let s = `${e.code}: ${e.message}`;
    if (e.reason) s += ` (${e.reason})`;
    return s;
  }
  return String(e);
}

// ----- live mode: a client of the service -----

/** An error the service answered with (Atlas's ApiError), shaped like the core's. */
class ServiceError extends Error {
  constructor(status, body) {
    super(body?.detail ?? `HTTP ${status}`);
    this.code = body?.errorCode ?? `HTTP_${status}`;
    this.status = status;
  }
}

async function api(method, path, { body, type = 'application/json' } = {}) {
  const headers = { authorization: `Bearer ${LIVE.token}` };
  if (body !== undefined) headers['content-type'] = type;
  const res = await fetch(`${LIVE.service}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new ServiceError(res.status, await res.json().catch(() => null));
  return res.status === 204 ? null : res.text();
}

let record = ''; // live: the record as the service gave it, line by line
let held = 0; // live: how many events `record` holds (the events stream resumes after them)
let trusted = null; // live: the public key checkpoints must be signed with

function adopt(text) {
  const next = Policy.replay(text);
  policy?.free();
  policy = next;
  record = text;
  held = text.split('\n').filter(Boolean).length;
  document.body.dataset.events = String(held);
}

/** The organization's record through the API, replayed (and so verified) by the core. */
async function loadLive() {
  $('live').hidden = false;
  $('actor-label').hidden = true;
  $('reset').hidden = true;
  $('live-where').textContent = `${LIVE.org} @ ${LIVE.service}`;
  trusted = LIVE.trust ?? (await api('GET', '/v1/checkpoint-key').catch(() => null))?.trim() ?? null;
  adopt(await api('GET', `/v1/orgs/${encodeURIComponent(LIVE.org)}/record`));
}

/** Checks the record held against a checkpoint the service signed, in the core. */
function checkpoint(text) {
  const box = $('live-checkpoint');
  if (!trusted) {
    box.textContent = 'checkpoint received, but no key to check it with';
    return;
  }
  const out = JSON.parse(policy.apply({ op: 'verifyCheckpoints', record, checkpoints: [text], trustedKeys: [trusted] }));
  if (out.ok) {
    box.textContent = `✓ verified up to #${out.ok.verifiedUpTo}, signed by ${out.ok.keyIds.join(', ')}${LIVE.trust ? '' : ' (key fetched from the service: pin it with &trust=)'}`;
    box.className = 'good';
    document.body.dataset.verifiedUpTo = String(out.ok.verifiedUpTo);
  } else {
    box.textContent = `✕ ${out.error.code}: ${out.error.message}`;
    box.className = 'bad';
  }
}

/**
 * Follows the events stream (Server-Sent Events read with fetch: an EventSource cannot send a
 * bearer token), resuming after the last event held; reconnects after a second when it ends.
 */
async function follow() {
  for (;;) {
    try {
      const res = await fetch(`${LIVE.service}/v1/orgs/${encodeURIComponent(LIVE.org)}/events`, {
        headers: { authorization: `Bearer ${LIVE.token}`, 'last-event-id': String(held) },
      });
      if (!res.ok) throw new ServiceError(res.status, await res.json().catch(() => null));
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let lines = [];
        let checkpoints = [];
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let type = 'message';
          const data = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) type = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (type === 'event') lines.push(data.join('\n'));
          else if (type === 'checkpoint') checkpoints.push(`${data.join('\n')}\n`);
        }
        if (lines.length) {
          adopt(record + lines.map((l) => `${l}\n`).join(''));
          render();
        }
        for (const c of checkpoints) checkpoint(c);
      }
    } catch (e) {
      toast(`Events stream: ${describeError(e)}; reconnecting…`, 'bad');
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** A change sent to the service; the events stream brings it back into the core. */
async function send(what, method, path, body, type) {
  try {
    await api(method, path, { body, type });
    toast(what);
    return true;
  } catch (e) {
    toast(describeError(e), 'bad');
    render();
    return false;
  }
}

const CLUSTERS_TYPE = 'application/vnd.atlas.2024-08-05+json';
const SETTINGS_TYPE = 'application/vnd.atlas.2023-01-01+json';
const clusterPath = (name, action) => {
  const c = policy.describe(Date.now()).clusters.find((x) => x.name === name);
  return `/api/atlas/v2/groups/${encodeURIComponent(c.projectId)}/clusters/${encodeURIComponent(name)}:${action}`;
};

/** Runs a change through the core; saves the record on success, shows the error otherwise. */
function mutate(what, f) {
  try {
    const result = f();
    save();
    render();
    toast(what);
    return result;
  } catch (e) {
    toast(describeError(e), 'bad');
    render();
    throw e;
  }
}

// ----- drawing -----

let toastTimer;
function toast(text, kind = 'good') {
  const t = $('toast');
  t.textContent = text;
  t.className = `toast ${kind}`;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 6000);
}

function hms(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

function localTime(iso) {
  return new Date(iso).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function accessCell(c, restricted, now) {
  const g = c.mongoDBEmployeeAccessGrant;
  if (g) {
    const left = policy.remaining(c.name, now);
    return el('td', { class: 'access' },
      el('span', { class: 'pill granted' }, 'Granted'), ' ',
      el('span', {}, GRANT_LABEL[g.grantType]),
      el('div', { class: 'sub' },
        el('span', { class: 'countdown mono', 'data-testid': `countdown-${c.name}`, dataset: { cluster: c.name } }, hms(left ?? 0)),
        ` left · until ${localTime(g.expirationTime)}`));
  }
  if (c.kind !== 'DEDICATED') {
    return el('td', { class: 'access' }, el('span', { class: 'pill neutral' }, 'Not available'),
      el('div', { class: 'sub' }, `${c.kind === 'FLEX' ? 'Flex' : 'Serverless'} clusters take no support access grants`));
  }
  // What support could reach right now, and why: asked of the core.
  const d = policy.evaluate(c.name, 'INFRASTRUCTURE', now);
  if (d.allowed) {
    return el('td', { class: 'access' }, el('span', { class: 'pill open' }, 'Allowed'),
      el('div', { class: 'sub' }, c.appServicesSyncEnabled ? 'by the organization setting (sync data needs a grant)' : 'by the organization setting'));
  }
  const why = { NO_GRANT: 'no grant', GRANT_REVOKED: 'grant revoked', GRANT_EXPIRED: 'grant expired' }[d.reason] ?? d.reason;
  return el('td', { class: 'access' }, el('span', { class: 'pill blocked' }, 'Blocked'),
    el('div', { class: 'sub', 'data-testid': `status-${c.name}` }, why));
}

function render() {
  const now = Date.now();
  const state = policy.describe(now);
  const a = actor();
  const isOwner = a.roles.some((r) => r.role === 'ORG_OWNER');

  $('org-id').textContent = state.orgId;
  const restrict = $('restrict');
  restrict.checked = state.restrictEmployeeAccess;
  restrict.disabled = !isOwner;
  $('org-owner-note').hidden = isOwner;

  const rows = $('cluster-rows');
  rows.replaceChildren(...state.clusters.map((c) => el('tr', { 'data-testid': `row-${c.name}` },
    el('td', {}, el('b', {}, c.name)),
    el('td', {}, PROJECT_NAMES[c.projectId] ?? c.projectId),
    el('td', {}, c.kind === 'DEDICATED' ? 'Dedicated' : c.kind === 'FLEX' ? 'Flex' : 'Serverless'),
    el('td', {}, c.appServicesSyncEnabled ? 'Enabled' : '—'),
    accessCell(c, state.restrictEmployeeAccess, now),
    el('td', { class: 'menu-col' }, el('button', {
      class: 'dots', 'aria-label': `Actions for ${c.name}`, 'aria-haspopup': 'menu', 'data-testid': `menu-${c.name}`,
      onclick: (ev) => openMenu(ev, c.name),
    }, '…')),
  )));
  shownGrants = new Set(state.clusters.filter((c) => c.mongoDBEmployeeAccessGrant).map((c) => c.name));

  const ask = $('ask-cluster');
  const chosen = ask.value;
  ask.replaceChildren(...state.clusters.map((c) => el('option', { value: c.name }, c.name)));
  if (state.clusters.some((c) => c.name === chosen)) ask.value = chosen;

  renderEvents();
  tick();
}

function eventSummary(e) {
  const parts = [];
  if (e.cluster) parts.push(e.cluster);
  if (e.projectId && !e.cluster) parts.push(PROJECT_NAMES[e.projectId] ?? e.projectId);
  if (e.grantType) parts.push(GRANT_LABEL[e.grantType]);
  if (e.type === 'EMPLOYEE_ACCESS_GRANTED') parts.push(`until ${localTime(e.expirationTime)}`);
  if (e.replaced) parts.push(`replaced ${GRANT_LABEL[e.replaced.grantType]}`);
  if (e.type === 'POLICY_CREATED') parts.push(`${e.orgId}, restrict=${e.restrictEmployeeAccess}`);
  return parts.join(' · ');
}

function renderEvents() {
  const events = policy.exportRecord().trimEnd().split('\n').map((l) => JSON.parse(l)).reverse();
  $('events').replaceChildren(...events.slice(0, 60).map((e) => el('li', { 'data-type': e.type },
    el('div', { class: 'ev-head' },
      el('span', { class: 'seq mono' }, `#${e.seq}`), ' ',
      el('span', { class: `ev-type t-${e.type}` }, e.type), ' ',
      el('span', { class: 'muted' }, e.seq === 1 ? 'created' : localTime(e.at)),
      e.actor ? el('span', { class: 'muted' }, ` · ${e.actor.id}`) : null),
    el('div', { class: 'ev-body' }, eventSummary(e)),
    el('div', { class: 'ev-hash mono', title: `prev ${e.prev}\nhash ${e.hash}` }, `${e.prev.slice(0, 8)}… → ${e.hash.slice(0, 8)}…`),
  )));
}

/** Every second: the countdowns (time left asked of the core) and expiry. */
function tick() {
  const now = Date.now();
  $('clock').textContent = `Now ${new Date(now).toLocaleTimeString()}`;
  let ended = false;
  for (const span of document.querySelectorAll('.countdown')) {
    const left = policy.remaining(span.dataset.cluster, now);
    if (left === null) ended = true;
    else span.textContent = hms(left);
  }
  if (ended || [...shownGrants].some((name) => policy.remaining(name, now) === null)) {
    // A grant ran out: record its EMPLOYEE_ACCESS_EXPIRED event (live, the record is the
    // service's: the core already answers GRANT_EXPIRED) and redraw.
    if (LIVE) {
      shownGrants.clear();
      render();
      return;
    }
    try {
      const events = policy.expireDue(now);
      if (events.length) save();
    } catch (e) {
      toast(describeError(e), 'bad');
    }
    shownGrants.clear();
    render();
  }
}

// ----- the … menu, the grant dialog, revoke -----

function openMenu(ev, name) {
  ev.stopPropagation();
  menuCluster = name;
  const now = Date.now();
  const state = policy.describe(now);
  const c = state.clusters.find((x) => x.name === name);
  const active = Boolean(c.mongoDBEmployeeAccessGrant);
  const grant = $('menu-grant');
  const note = $('menu-note');
  grant.textContent = active ? 'Change or extend MongoDB Support access…' : 'Grant MongoDB Support access…';
  note.textContent = '';
  grant.disabled = false;
  if (c.kind !== 'DEDICATED') {
    grant.disabled = true;
    note.textContent = 'Flex and serverless clusters take no grants.';
  } else if (!state.restrictEmployeeAccess && !c.appServicesSyncEnabled && !active) {
    grant.disabled = true;
    note.textContent = 'Support already has access: the organization does not block it.';
  }
  $('menu-revoke').disabled = !active;
  const menu = $('menu');
  menu.hidden = false;
  const r = ev.currentTarget.getBoundingClientRect();
  menu.style.top = `${window.scrollY + r.bottom + 4}px`;
  menu.style.left = `${window.scrollX + r.right - menu.offsetWidth}px`;
  grant.focus();
}

function closeMenu() {
  $('menu').hidden = true;
}

function openGrantDialog(name) {
  const state = policy.describe(Date.now());
  const c = state.clusters.find((x) => x.name === name);
  $('grant-cluster').textContent = name;
  $('grant-error').hidden = true;
  const restricted = state.restrictEmployeeAccess;
  // Which options the dialog offers follows the SPEC: the sync-data grant only on clusters with
  // App Services sync; while the org does not block support, infrastructure and logs are
  // already reachable, so only the sync-data grant is worth offering.
  const offer = {
    CLUSTER_INFRASTRUCTURE: restricted,
    CLUSTER_DATABASE_LOGS: restricted,
    CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA: c.appServicesSyncEnabled,
  };
  let first = null;
  for (const label of document.querySelectorAll('#grant-options .option')) {
    const type = label.dataset.grant;
    label.hidden = !offer[type];
    const input = label.querySelector('input');
    input.checked = false;
    if (offer[type] && !first) first = input;
  }
  const current = c.mongoDBEmployeeAccessGrant?.grantType;
  const pick = current && offer[current] ? document.querySelector(`#grant-options input[value="${current}"]`) : first;
  if (pick) pick.checked = true;
  $('grant-intro').textContent = restricted
    ? (current ? 'Granting again replaces the current grant: new access type, new expiry.' : 'Support staff get the access you choose until it expires or you revoke it.')
    : 'Your organization does not block support access, so support can already reach this cluster\'s infrastructure and logs. App Services sync data always needs a grant.';
  $('grant-dialog').showModal();
}

function submitGrant() {
  const type = document.querySelector('#grant-options input:checked')?.value;
  const name = $('grant-cluster').textContent;
  const now = Date.now();
  const expiration = now + Number($('grant-duration').value);
  if (LIVE) {
    const body = { grantType: type, expirationTime: new Date(expiration).toISOString() };
    api('POST', clusterPath(name, 'grantMongoDBEmployeeAccess'), { body, type: CLUSTERS_TYPE })
      .then(() => toast(`Granted ${GRANT_LABEL[type] ?? type} on ${name}.`))
      .catch((e) => toast(describeError(e), 'bad'));
    return true;
  }
  try {
    mutate(`Granted ${GRANT_LABEL[type] ?? type} on ${name}.`, () => policy.grant(actor(), name, type, now, expiration));
    return true;
  } catch (e) {
    const err = $('grant-error');
    err.textContent = describeError(e);
    err.hidden = false;
    return false;
  }
}

// ----- wiring -----

function wire() {
  $('actor').addEventListener('change', () => {
    localStorage.setItem(ACTOR_KEY, $('actor').value);
    render();
  });
  $('restrict').addEventListener('change', (ev) => {
    const want = ev.target.checked;
    if (LIVE) {
      send(want ? 'Support access is now blocked unless a cluster grants it.' : 'Support access is no longer blocked.',
        'PATCH', `/api/atlas/v2/orgs/${encodeURIComponent(LIVE.org)}/settings`, { restrictEmployeeAccess: want }, SETTINGS_TYPE);
      return;
    }
    try {
      mutate(want ? 'Support access is now blocked unless a cluster grants it.' : 'Support access is no longer blocked.',
        () => policy.setRestriction(actor(), want, Date.now()));
    } catch {
      // shown by mutate; the checkbox was redrawn from the policy
    }
  });
  document.addEventListener('click', (ev) => {
    if (!$('menu').contains(ev.target)) closeMenu();
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') closeMenu();
  });
  $('menu-grant').addEventListener('click', () => {
    closeMenu();
    openGrantDialog(menuCluster);
  });
  $('menu-revoke').addEventListener('click', () => {
    closeMenu();
    if (LIVE) {
      send(`Revoked support access on ${menuCluster}.`, 'POST', clusterPath(menuCluster, 'revokeMongoDBEmployeeAccess'));
      return;
    }
    try {
      mutate(`Revoked support access on ${menuCluster}.`, () => policy.revoke(actor(), menuCluster, Date.now()));
    } catch {
      // shown by mutate
    }
  });
  $('grant-form').addEventListener('submit', (ev) => {
    if (ev.submitter?.value === 'grant' && !submitGrant()) ev.preventDefault();
  });
  $('ask').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const cluster = $('ask-cluster').value;
    const resource = $('ask-resource').value;
    const box = $('answer');
    try {
      const d = policy.evaluate(cluster, resource, Date.now());
      box.className = `answer ${d.allowed ? 'allow' : 'deny'}`;
      box.dataset.allowed = String(d.allowed);
      box.dataset.reason = d.reason;
      box.replaceChildren(...[
        el('div', { class: 'verdict' }, d.allowed ? '✓ Allowed' : '✕ Denied', ' ', el('code', {}, d.reason)),
        el('div', {}, `${resource.replaceAll('_', ' ').toLowerCase()} on ${cluster}: ${REASON_TEXT[d.reason] ?? d.reason}.`),
        d.grantType ? el('div', { class: 'muted' }, `Active grant: ${GRANT_LABEL[d.grantType]}, ${hms(d.remainingMs)} left.`) : null,
      ].filter(Boolean));
    } catch (e) {
      box.className = 'answer deny';
      box.textContent = describeError(e);
    }
    box.hidden = false;
  });
  $('verify').addEventListener('click', () => {
    const box = $('verify-result');
    try {
      const n = Policy.verifyRecord(policy.exportRecord());
      box.className = 'verify ok';
      box.textContent = `✓ Record verified: ${n} events, hash chain intact.`;
    } catch (e) {
      box.className = 'verify bad';
      box.textContent = `✕ ${describeError(e)}`;
    }
    box.hidden = false;
  });
  $('tamper').addEventListener('click', () => {
    // Edit one past event in a copy (as someone covering their tracks would) and verify it.
    const lines = policy.exportRecord().trimEnd().split('\n');
    const i = Math.max(1, lines.length - 2);
    const e = JSON.parse(lines[i]);
    e.at = new Date(Date.parse(e.at) - 3600_000).toISOString();
    lines[i] = JSON.stringify(e);
    const box = $('verify-result');
    try {
      Policy.verifyRecord(`${lines.join('\n')}\n`);
      box.className = 'verify bad';
      box.textContent = 'The tampered copy verified?!';
    } catch (err) {
      box.className = 'verify ok';
      box.textContent = `✓ Tampered copy rejected: ${err.code} at event #${err.seq} (its time was moved back an hour).`;
    }
    box.hidden = false;
  });
  $('reset').addEventListener('click', () => {
    localStorage.removeItem(STORE_KEY);
    policy.free();
    policy = seed();
    save();
    $('answer').hidden = true;
    $('verify-result').hidden = true;
    render();
    toast('Started a fresh demo organization.');
  });
}

const savedActor = localStorage.getItem(ACTOR_KEY);
if (savedActor && ACTORS[savedActor]) $('actor').value = savedActor;
if (LIVE) {
  try {
    await loadLive();
  } catch (e) {
    $('loading').textContent = `Cannot load ${LIVE.org} from ${LIVE.service}: ${describeError(e)}`;
    throw e;
  }
} else {
  policy = load();
}
wire();
render();
$('loading').remove();
document.body.dataset.ready = 'true';
setInterval(tick, 1000);
if (LIVE) follow();
