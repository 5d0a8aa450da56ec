// The Rescind operator console (README, "Operator console"). Plain DOM, no framework, no build
// step: the page's Content-Security-Policy allows this one script and nothing inline. Every value
// that comes from the API is written as text (textContent), never as markup.

/** Where the admin key lives: this tab only, gone when it closes; never a cookie or a URL. */
const KEY_STORAGE = 'rescind-admin-key';
/** How often the fleet table is refreshed. */
const FLEET_REFRESH_MS = 1000;
/** How often a revocation's confirmations are polled while replicas are still catching up. */
const CONFIRM_POLL_MS = 150;
/** When to stop waiting for every ready replica to confirm. */
const CONFIRM_BOUND_MS = 10_000;
/** Revocations fetched per page. */
const PAGE_SIZE = 50;

/** What the API field names are called in the console, by the body key of the POST. */
const KINDS = {
  jti: { kind: 'token', label: 'Token' },
  sid: { kind: 'session', label: 'Session' },
  sub: { kind: 'user', label: 'User' },
};

const $ = (id) => document.getElementById(id);
const adminEnabled =
  document.querySelector('meta[name="rescind-admin"]')?.getAttribute('content') !== 'disabled';

/** An error of an admin call, with what the operator should read. */
class ConsoleError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Builds an element with attributes and children (strings become text nodes). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  node.append(...children.filter((child) => child !== undefined && child !== null));
  return node;
}

/** Sets a node's text only when it changed, so that live regions announce changes only. */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function storedKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

/** A readable age: `850 ms`, `12 s`, `3 min`. */
function age(ms) {
  if (!Number.isFinite(ms)) return '–';
  const abs = Math.max(0, ms);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  if (abs < 120_000) return `${Math.round(abs / 1000)} s`;
  if (abs < 7_200_000) return `${Math.round(abs / 60_000)} min`;
  return `${Math.round(abs / 3_600_000)} h`;
}

/** A timestamp cell: the time (UTC) with the full ISO value as its title. */
function timeCell(iso) {
  if (!iso) return el('td', {}, '–');
  const text = iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return el('td', {}, el('time', { datetime: iso, title: iso }, text));
}

function yesNo(value) {
  return el('td', { class: value ? 'yes' : 'no' }, value ? 'yes' : 'no');
}

/**
 * Calls an admin route with the key of this tab.
 * @throws ConsoleError with the operator's message: no key, 401, 404, network, other statuses
 */
async function api(path, { method = 'GET', body } = {}) {
  const key = storedKey();
  if (!key) throw new ConsoleError(0, 'Type the admin key first.');
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ConsoleError(0, `Network error: ${method} ${path} did not reach the replica.`);
  }
  const instance = response.headers.get('x-instance-id');
  if (instance) setText($('served-by'), instance);
  let answer;
  try {
    answer = await response.json();
  } catch {
    answer = undefined;
  }
  if (response.ok) return answer;
  if (response.status === 401) {
    throw new ConsoleError(401, 'The admin key was refused (401): check it against ADMIN_API_KEY.');
  }
  if (response.status === 404) {
    // A route's own "not found" (ERR_USER_NOT_FOUND, …) says what; a bare 404 is no such route.
    const specific =
      typeof answer?.error === 'string' &&
      answer.error.startsWith('ERR_') &&
      answer.error !== 'ERR_NOT_FOUND';
    throw new ConsoleError(
      404,
      specific
        ? `${answer.message} (404)`
        : adminEnabled
          ? `${method} ${path.split('?')[0]} answered 404: this replica has no such route.`
          : 'Admin is disabled on this replica (404): ADMIN_API_KEY is not set.',
    );
  }
  const detail = answer && typeof answer.message === 'string' ? `: ${answer.message}` : '';
  throw new ConsoleError(response.status, `${method} answered ${response.status}${detail}`);
}

/** Shows an error in a panel's alert, or clears it. */
function showError(id, error) {
  setText($(id), error === undefined ? '' : error instanceof Error ? error.message : String(error));
}

// ---- Key ----------------------------------------------------------------------------------------

function useKey(key) {
  sessionStorage.setItem(KEY_STORAGE, key);
  showError('key-error');
  setText($('key-state'), 'Key set for this tab (session storage). Forget it when you are done.');
  startFleet();
  void loadRevocations();
}

function forgetKey() {
  sessionStorage.removeItem(KEY_STORAGE);
  stopFleet();
  $('fleet-rows').replaceChildren();
  $('revocation-rows').replaceChildren();
  $('session-rows').replaceChildren();
  setText($('fleet-summary'), '');
  setText($('revocations-summary'), '');
  setText($('user-summary'), '');
  $('sign-out-everywhere').hidden = true;
  setText($('key-state'), 'No key: type ADMIN_API_KEY to load the panels.');
}

/** A 401 anywhere means the key is wrong: say it once, at the key, and stop polling. */
function keyRefused(error) {
  if (!(error instanceof ConsoleError) || error.status !== 401) return false;
  showError('key-error', error);
  stopFleet();
  return true;
}

// ---- Fleet --------------------------------------------------------------------------------------

let fleetTimer;
let fleetRunning = false;

function startFleet() {
  fleetRunning = true;
  clearTimeout(fleetTimer);
  void refreshFleet();
}

function stopFleet() {
  fleetRunning = false;
  clearTimeout(fleetTimer);
}

async function refreshFleet() {
  try {
    const fleet = await api('/admin/replicas');
    showError('fleet-error');
    renderFleet(fleet);
  } catch (error) {
    if (!keyRefused(error)) showError('fleet-error', error);
  }
  if (fleetRunning) fleetTimer = setTimeout(refreshFleet, FLEET_REFRESH_MS);
}

function renderFleet(fleet) {
  const now = Date.now();
  const items = Array.isArray(fleet.items) ? fleet.items : [];
  const inSync = items.filter((replica) => replica.in_sync).length;
  setText(
    $('fleet-summary'),
    `${items.length} replica${items.length === 1 ? '' : 's'} reporting, ` +
      `${fleet.ready_count} ready, ${inSync} in sync`,
  );
  const rows = items.map((replica) => {
    const position = replica.log_position;
    const positionText = position ? `${position.seq} @ ${String(position.epoch).slice(0, 8)}` : '–';
    return el(
      'tr',
      {
        'data-instance': replica.instance,
        'data-ready': String(Boolean(replica.ready)),
        'data-in-sync': String(Boolean(replica.in_sync)),
      },
      el(
        'th',
        { scope: 'row' },
        replica.instance,
        replica.region ? el('span', { class: 'hint' }, ` (${replica.region})`) : undefined,
      ),
      yesNo(replica.ready),
      yesNo(replica.in_sync),
      el('td', { class: 'number' }, age(replica.staleness_ms)),
      el('td', { class: 'number' }, String(replica.cache_entries ?? '–')),
      el('td', { class: 'id', title: position ? `epoch ${position.epoch}` : '' }, positionText),
      el(
        'td',
        { title: replica.reported_at ?? '' },
        `${age(now - Date.parse(replica.reported_at))} ago`,
      ),
    );
  });
  $('fleet-rows').replaceChildren(...rows);
}

// ---- Revocations --------------------------------------------------------------------------------

let revocations = [];
let nextCursor = null;

async function loadRevocations(more = false) {
  const cursor = more && nextCursor ? `&cursor=${encodeURIComponent(nextCursor)}` : '';
  try {
    const page = await api(`/admin/revocations?limit=${PAGE_SIZE}${cursor}`);
    revocations = more ? [...revocations, ...page.items] : page.items;
    nextCursor = page.next_cursor;
    showError('revocations-error');
    renderRevocations();
  } catch (error) {
    if (!keyRefused(error)) showError('revocations-error', error);
  }
}

function matches(item, query) {
  if (query === '') return true;
  return [item.id, item.provider_id, item.reason, item.actor].some(
    (field) => typeof field === 'string' && field.toLowerCase().includes(query),
  );
}

function renderRevocations() {
  const query = $('revocation-search').value.trim().toLowerCase();
  const shown = revocations.filter((item) => matches(item, query));
  setText(
    $('revocations-summary'),
    `${shown.length} of ${revocations.length} loaded revocation${revocations.length === 1 ? '' : 's'}` +
      (query ? ` match “${query}”` : '') +
      (nextCursor ? '; more on the server' : ''),
  );
  $('revocation-rows').replaceChildren(
    ...shown.map((item) =>
      el(
        'tr',
        { 'data-id': item.id },
        el('td', {}, item.kind),
        el('td', { class: 'id' }, item.provider_id ?? item.id),
        el('td', {}, item.reason ?? '–'),
        el('td', {}, item.actor ?? '–'),
        el('td', {}, item.origin ?? '–'),
        timeCell(item.at),
        timeCell(item.expiresAt),
      ),
    ),
  );
  $('more-revocations').hidden = !nextCursor;
}

/**
 * Revokes (`POST /admin/revocations`) and then shows, in `container`, the replicas confirming it
 * as they apply it.
 */
async function revoke(field, id, reason, container, errorId) {
  const { kind, label } = KINDS[field];
  const body = { [field]: id, ...(reason ? { reason } : {}) };
  let receipt;
  try {
    receipt = await api('/admin/revocations', { method: 'POST', body });
  } catch (error) {
    if (!keyRefused(error)) showError(errorId, error);
    return false;
  }
  showError(errorId);
  void loadRevocations();
  await trackConfirmations(container, kind, receipt.id, `${label} ${id}`);
  return true;
}

// ---- Confirmations ------------------------------------------------------------------------------

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `GET /admin/revocations/:id` until every ready replica confirms the revocation or the
 * bound passes, ticking each replica over as it confirms.
 */
async function trackConfirmations(container, kind, id, label) {
  const summary = el(
    'p',
    { class: 'confirmation-summary' },
    `${label}: revoked, waiting for replicas…`,
  );
  const list = el('ul', { 'aria-label': `Replicas confirming ${label}` });
  const box = el('div', { class: 'confirmation', 'data-state': 'pending' }, summary, list);
  container.prepend(box);
  const started = performance.now();
  let last;
  for (;;) {
    const elapsed = performance.now() - started;
    try {
      last = await api(`/admin/revocations/${encodeURIComponent(id)}?kind=${kind}`);
    } catch (error) {
      // 404 may only mean the record is not readable yet; anything else ends the wait.
      if (!(error instanceof ConsoleError) || error.status !== 404 || elapsed > CONFIRM_BOUND_MS) {
        box.dataset.state = 'failed';
        setText(
          summary,
          `${label}: revoked, but its confirmations could not be read: ${error.message}`,
        );
        return;
      }
    }
    if (last !== undefined) renderReplicas(list, last.replicas ?? []);
    const confirmed =
      last !== undefined && last.ready_replicas > 0 && last.confirmed_by >= last.ready_replicas;
    const counts =
      last === undefined
        ? ''
        : `confirmed by ${last.confirmed_by} of ${last.ready_replicas} replicas`;
    if (confirmed) {
      box.dataset.state = 'confirmed';
      setText(summary, `${label}: ${counts} in ${age(performance.now() - started)}`);
      return;
    }
    if (elapsed > CONFIRM_BOUND_MS) {
      box.dataset.state = 'failed';
      const waiting = (last?.replicas ?? []).filter((r) => !r.confirmed).map((r) => r.instance);
      setText(
        summary,
        `${label}: ${counts || 'no confirmations'} after ${age(elapsed)}` +
          (waiting.length ? `; not confirmed by ${waiting.join(', ')}` : ''),
      );
      return;
    }
    setText(summary, `${label}: ${counts || 'waiting for replicas'}…`);
    await pause(CONFIRM_POLL_MS);
  }
}

function renderReplicas(list, replicas) {
  const items = replicas.map((replica) =>
    el(
      'li',
      { 'data-instance': replica.instance, 'data-confirmed': replica.confirmed ? 'true' : 'false' },
      `${replica.instance}: ${replica.confirmed ? '✓ confirmed' : 'waiting'}`,
    ),
  );
  // Replaced only when something changed, so that the live region reads out changes.
  const text = items.map((item) => item.textContent).join('|');
  if (list.dataset.text !== text) {
    list.dataset.text = text;
    list.replaceChildren(...items);
  }
}

// ---- User ---------------------------------------------------------------------------------------

let shownUser;

async function loadUser(user) {
  try {
    const answer = await api(`/admin/users/${encodeURIComponent(user)}/sessions`);
    shownUser = answer;
    showError('user-error');
    renderUser(answer);
  } catch (error) {
    shownUser = undefined;
    $('session-rows').replaceChildren();
    setText($('user-summary'), '');
    $('sign-out-everywhere').hidden = true;
    if (!keyRefused(error)) showError('user-error', error);
  }
}

function renderUser(answer) {
  const count = answer.items.length;
  setText(
    $('user-summary'),
    `${answer.username} (sub ${answer.sub}): ${count} live session${count === 1 ? '' : 's'}`,
  );
  const everywhere = $('sign-out-everywhere');
  everywhere.hidden = false;
  everywhere.disabled = false;
  $('session-rows').replaceChildren(
    ...answer.items.map((session) => {
      const button = el(
        'button',
        { type: 'button', class: 'danger', 'aria-label': `Revoke session ${session.sid}` },
        'Revoke session',
      );
      button.addEventListener('click', async () => {
        button.disabled = true;
        await revoke('sid', session.sid, userReason(), $('user-confirmation'), 'user-error');
        await loadUser(answer.sub);
      });
      return el(
        'tr',
        { 'data-sid': session.sid },
        el('td', { class: 'id' }, session.sid),
        timeCell(session.created_at),
        timeCell(session.last_used_at),
        el('td', {}, session.user_agent ?? '–'),
        el('td', {}, session.ip ?? '–'),
        el('td', {}, button),
      );
    }),
  );
}

function userReason() {
  return $('user-reason').value.trim();
}

// ---- Wiring -------------------------------------------------------------------------------------

function start() {
  if (!adminEnabled) $('admin-disabled').hidden = false;
  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('admin-key');
    const key = input.value.trim();
    input.value = '';
    if (key) useKey(key);
  });
  $('forget-key').addEventListener('click', forgetKey);
  $('revocation-search').addEventListener('input', renderRevocations);
  $('reload-revocations').addEventListener('click', () => void loadRevocations());
  $('more-revocations').addEventListener('click', () => void loadRevocations(true));
  $('revoke-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const field = $('revoke-kind').value;
    const id = $('revoke-id').value.trim();
    if (!id) return;
    const done = await revoke(
      field,
      id,
      $('revoke-reason').value.trim(),
      $('revoke-confirmation'),
      'revocations-error',
    );
    if (done) {
      $('revoke-id').value = '';
      $('revoke-reason').value = '';
    }
  });
  $('user-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const user = $('user-name').value.trim();
    if (user) void loadUser(user);
  });
  $('sign-out-everywhere').addEventListener('click', async () => {
    if (shownUser === undefined) return;
    const { sub } = shownUser;
    $('sign-out-everywhere').disabled = true;
    await revoke('sub', sub, userReason(), $('user-confirmation'), 'user-error');
    await loadUser(sub);
  });
  if (storedKey()) useKey(storedKey());
  else forgetKey();
}

start();
