"use strict";
// The Triport console page: a plain client of the console HTTP contract (same origin, cookies).
// Server data is only ever written with textContent, never parsed as HTML.

const $ = (id) => document.getElementById(id);
const SIGNING_OUT = "triport.signingOut"; // survives a reload, so a pending sign-out resumes
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 8000;

const GOOGLE_ERRORS = {
  google_disabled: "Google sign-in is not configured on this server.",
  google_denied: "Google sign-in was cancelled.",
  google_state_mismatch: "The Google sign-in expired or was started in another tab. Try again.",
  google_missing_verifier: "The Google sign-in expired or was started in another tab. Try again.",
  google_exchange_failed: "Google did not confirm the sign-in. Try again.",
  google_email_unverified: "Your Google account's email address is not verified.",
};

// The seed's helper: nl_csrf is the one cookie the page may read (nl_session is HttpOnly).
function readCookie(name) {
  const m = document.cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`));
  return m ? decodeURIComponent(m[1]) : null;
}

/** An error answer of the API; `message` is the server's own text. */
class ApiError extends Error {
  constructor(status, body) {
    const message = body && typeof body.message === "string" ? body.message : null;
    super(message ?? `The server answered HTTP ${status}.`);
    this.status = status;
    this.requestId = body && body.request_id;
  }
}

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = readCookie("nl_csrf") ?? "";
  let res;
  try {
    res = await fetch(path, {
      method,
      credentials: "include",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { message: "Could not reach the server. Check your connection." });
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function setStatus(text, pending = false) {
  $("status").textContent = text;
  $("status").classList.toggle("pending", pending);
}

function showError(err) {
  const box = $("error");
  box.textContent = err.requestId ? `${err.message} (request ${err.requestId})` : err.message;
  box.hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

function describeKey(key) {
  return `${key.name} — ${key.key_prefix}…`;
}

// ---- passkeys (WebAuthn) -------------------------------------------------------------------
// The server sends standard JSON options (binary fields base64url) and takes the browser's
// standard JSON answer; these helpers convert where the browser lacks the native JSON methods.

function toBuffer(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer;
}

function toBase64url(buffer) {
  let text = "";
  for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const withIds = (list) => (list ?? []).map((item) => ({ ...item, id: toBuffer(item.id) }));

function creationOptions(json) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) {
    return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  }
  return {
    ...json,
    challenge: toBuffer(json.challenge),
    user: { ...json.user, id: toBuffer(json.user.id) },
    excludeCredentials: withIds(json.excludeCredentials),
  };
}

function requestOptions(json) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) {
    return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  }
  return { ...json, challenge: toBuffer(json.challenge), allowCredentials: withIds(json.allowCredentials) };
}

function credentialJson(credential) {
  if (typeof credential.toJSON === "function") return credential.toJSON();
  const r = credential.response;
  const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toBase64url(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = toBase64url(r.authenticatorData);
    response.signature = toBase64url(r.signature);
    if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
  }
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response,
    authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
  };
}

const passkeysSupported = () =>
  typeof window.PublicKeyCredential === "function" && !!navigator.credentials;

const PASSKEY_UNSUPPORTED =
  "This browser does not support passkeys. Use an up-to-date browser, or sign in with an email code.";

/** A browser refusal (DOMException) in words; the server's errors pass through. */
function passkeyProblem(err, creating) {
  if (!(err instanceof DOMException)) return err;
  const messages = {
    NotAllowedError: creating
      ? "No passkey was created: the request was cancelled or timed out."
      : "No passkey was used: the request was cancelled or timed out, or this device has no passkey for this site.",
    AbortError: "The passkey request was cancelled.",
    InvalidStateError: "This device already holds a passkey for your account.",
    SecurityError:
      "Passkeys are not available at this address. Open the console at its own domain name (for example http://localhost:8080 rather than an IP address).",
    NotSupportedError: "This device cannot create a passkey that this console accepts.",
  };
  return { message: messages[err.name] ?? `The passkey request failed (${err.name}).` };
}

async function passkeyCeremony(run, creating) {
  if (!passkeysSupported()) throw { message: PASSKEY_UNSUPPORTED };
  try {
    return credentialJson(await run());
  } catch (err) {
    throw passkeyProblem(err, creating);
  }
}

async function signInWithPasskey() {
  const { options } = await api("POST", "/v1/auth/passkey/options");
  const credential = await passkeyCeremony(
    () => navigator.credentials.get({ publicKey: requestOptions(options) }),
    false,
  );
  await api("POST", "/v1/auth/passkey/verify", { credential });
  await loadAccount();
}

async function addPasskey() {
  const name = $("passkey-name").value.trim();
  const { options } = await api("POST", "/v1/auth/passkeys/register/options");
  const credential = await passkeyCeremony(
    () => navigator.credentials.create({ publicKey: creationOptions(options) }),
    true,
  );
  const answer = await api("POST", "/v1/auth/passkeys/register/verify", {
    credential,
    name: name || null,
  });
  $("passkey-name").value = "";
  await loadPasskeys();
  setStatus(`Passkey “${answer.passkey.name}” added. You can now sign in with it.`);
}

async function loadPasskeys() {
  renderPasskeys((await api("GET", "/v1/auth/passkeys")).passkeys);
}

function renderPasskeys(passkeys) {
  const rows = passkeys.map((passkey) => {
    const li = document.createElement("li");
    const about = document.createElement("div");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = passkey.name;
    const used = passkey.last_used_at ? `last used ${passkey.last_used_at.slice(0, 10)}` : "never used";
    const detail = document.createElement("span");
    detail.className = "detail";
    detail.textContent = `added ${passkey.created_at.slice(0, 10)} · ${used}`;
    about.append(name, detail);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "danger";
    remove.textContent = "Remove";
    remove.dataset.id = passkey.id;
    remove.dataset.name = passkey.name;
    remove.setAttribute("aria-label", `Remove passkey ${passkey.name}`);
    li.append(about, remove);
    return li;
  });
  $("passkey-rows").replaceChildren(...rows);
  $("passkey-empty").hidden = passkeys.length > 0;
}

async function removePasskey(button) {
  await api("DELETE", `/v1/auth/passkeys/${encodeURIComponent(button.dataset.id)}`);
  await loadPasskeys();
  setStatus(`Passkey “${button.dataset.name}” removed.`);
}

// ---- views ---------------------------------------------------------------------------------

function showSignIn(message) {
  for (const id of ["account", "passkeys", "keys", "signout"]) $(id).hidden = true;
  hideSecret();
  $("key-rows").replaceChildren();
  $("passkey-rows").replaceChildren();
  // The signed-out page keeps nothing of the account, not even in hidden elements.
  for (const id of ["me-email", "me-name", "me-provider", "me-key"]) $(id).textContent = "";
  $("signin").hidden = false;
  $("email-form").hidden = false;
  $("code-form").hidden = true;
  setStatus(message);
}

function showAccount(me) {
  $("me-email").textContent = me.user.email ?? "—";
  $("me-name").textContent = me.user.display_name ?? "—";
  $("me-provider").textContent = me.provider;
  $("me-key").textContent = describeKey(me.default_key);
  $("signin").hidden = true;
  for (const id of ["account", "passkeys", "keys", "signout"]) $(id).hidden = false;
  setStatus(`Signed in as ${me.user.email ?? me.user.display_name ?? me.user.id}.`);
  if (me.default_key.raw) showSecret("Secret of your default key", me.default_key);
}

/** Shows the one-time secret of `key` (an object with `id` and `raw`). */
function showSecret(label, key) {
  $("secret-label").textContent = label;
  $("secret-value").value = key.raw;
  $("secret").dataset.keyId = key.id;
  $("secret").hidden = false;
  $("secret-value").focus(); // announces the secret's label to screen readers
  $("secret-value").setSelectionRange(0, 0);
}

function hideSecret() {
  $("secret").hidden = true;
  $("secret-value").value = "";
  delete $("secret").dataset.keyId;
}

function renderKeys(keys) {
  const rows = keys.map((key) => {
    const tr = document.createElement("tr");
    const cell = (text) => {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
      return td;
    };
    const details = [key.key_prefix, `created ${key.created_at.slice(0, 10)}`].map((text) => {
      const line = document.createElement("span");
      line.className = "detail";
      line.textContent = text;
      return line;
    });
    cell(key.is_default ? `${key.name} (default)` : key.name).append(...details);
    cell(key.status).classList.add(key.status);
    const actions = cell("");
    if (key.status === "active") {
      actions.append(keyButton("rotate", "Rotate", key));
      if (!key.is_default) actions.append(keyButton("revoke", "Revoke", key));
    }
    return tr;
  });
  $("key-rows").replaceChildren(...rows);
}

function keyButton(action, label, key) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = action === "revoke" ? "danger" : "secondary";
  button.textContent = label;
  button.dataset.action = action;
  button.dataset.id = key.id;
  button.setAttribute("aria-label", `${label} key ${describeKey(key)}`);
  return button;
}

// ---- actions -------------------------------------------------------------------------------

/** Runs a UI action: its control is disabled meanwhile, errors show the server's text. */
async function run(action, control) {
  if (control) control.disabled = true;
  clearError();
  try {
    await action();
  } catch (err) {
    if (err.status === 401) showSignIn("Your session has ended. Sign in again.");
    showError(err);
  } finally {
    if (control) control.disabled = false;
  }
}

function handler(action) {
  return (event) => {
    event.preventDefault();
    run(() => action(event), event.submitter ?? event.target.closest("button"));
  };
}

let loginRequestId = null;

async function startEmail() {
  const email = $("email").value;
  const answer = await api("POST", "/v1/auth/email/start", { email });
  loginRequestId = answer.request_id;
  $("code-hint").textContent =
    `We sent a 6-digit code to ${email.trim().toLowerCase()}. It is valid for 10 minutes.`;
  $("email-form").hidden = true;
  $("code-form").hidden = false;
  $("code").focus();
}

async function verifyCode() {
  const code = $("code").value.trim();
  await api("POST", "/v1/auth/email/verify", { request_id: loginRequestId, code });
  $("code").value = "";
  await loadAccount();
}

async function loadAccount() {
  let me;
  try {
    me = await api("GET", "/v1/auth/me");
  } catch (err) {
    if (err.status !== 401) throw err;
    showSignIn("");
    return;
  }
  showAccount(me);
  await Promise.all([loadKeys(), loadPasskeys()]);
}

async function loadKeys() {
  renderKeys((await api("GET", "/v1/keys")).keys);
}

async function createKey() {
  const answer = await api("POST", "/v1/keys", { name: $("key-name").value });
  $("key-name").value = "";
  await loadKeys();
  const label = `Secret of the new key “${answer.key.name}”`;
  showSecret(label, { id: answer.key.id, raw: answer.raw });
}

async function keyAction(button) {
  const id = encodeURIComponent(button.dataset.id);
  if (button.dataset.action === "revoke") {
    await api("DELETE", `/v1/keys/${id}`);
    if ($("secret").dataset.keyId === button.dataset.id) hideSecret(); // a dead key's secret
    await loadKeys();
    setStatus("Key revoked.");
    return;
  }
  const answer = await api("POST", `/v1/keys/${id}/rotate`);
  if (answer.new.is_default) $("me-key").textContent = describeKey(answer.new);
  await loadKeys();
  const label = `New secret of the rotated key “${answer.new.name}”`;
  showSecret(label, { id: answer.new.id, raw: answer.raw });
}

async function copySecret() {
  try {
    await navigator.clipboard.writeText($("secret-value").value);
    setStatus("Secret copied to the clipboard.");
  } catch {
    $("secret-value").select();
    setStatus("Could not copy automatically: the secret is selected, press Ctrl+C to copy it.");
  }
}

// The seed's rule: a 500 logout_failed (or no answer) means the session row may still be live and
// the cookie was kept, so the page keeps retrying; only a 200 proves the session is revoked.
async function signOut() {
  sessionStorage.setItem(SIGNING_OUT, "1");
  $("signout").disabled = true;
  $("keys").inert = true;
  $("passkeys").inert = true;
  $("secret").inert = true;
  clearError();
  setStatus("Signing out…");
  let delay = FIRST_RETRY_MS;
  try {
    for (;;) {
      try {
        await api("POST", "/v1/auth/logout");
        break;
      } catch (err) {
        if (err.status !== 0 && err.status < 500) throw err; // csrf_invalid: a retry cannot help
        const next = `Next attempt in ${delay / 1000} s.`;
        setStatus(`Signing out… (pending, retrying) ${err.message} ${next}`, true);
        await sleep(delay);
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
    showSignIn("You are signed out.");
  } catch (err) {
    setStatus("");
    showError(err);
    if ($("account").hidden) loadAccount().catch(showError); // resumed after a reload
  } finally {
    sessionStorage.removeItem(SIGNING_OUT);
    $("signout").disabled = false;
    $("keys").inert = false;
    $("passkeys").inert = false;
    $("secret").inert = false;
  }
}

async function loadGoogleButton() {
  try {
    const config = await api("GET", "/v1/console/config");
    $("google-box").hidden = config.google_enabled !== true;
  } catch {
    // The button is optional: without a readable config the page offers email sign-in only.
  }
}

function showGoogleError() {
  const params = new URLSearchParams(location.search);
  const tag = params.get("error");
  if (!tag || !tag.startsWith("google_")) return;
  showError({ message: GOOGLE_ERRORS[tag] ?? `Google sign-in failed (${tag}).` });
  params.delete("error");
  const query = params.toString();
  history.replaceState(null, "", location.pathname + (query ? `?${query}` : ""));
}

function boot() {
  $("email-form").addEventListener("submit", handler(startEmail));
  $("code-form").addEventListener("submit", handler(verifyCode));
  $("code-back").addEventListener("click", () => showSignIn(""));
  $("create-form").addEventListener("submit", handler(createKey));
  $("passkey-signin").addEventListener("click", handler(signInWithPasskey));
  $("passkey-form").addEventListener("submit", handler(addPasskey));
  $("passkey-rows").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-id]");
    if (button) run(() => removePasskey(button), button);
  });
  $("key-rows").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) run(() => keyAction(button), button);
  });
  $("secret-copy").addEventListener("click", handler(copySecret));
  $("secret-done").addEventListener("click", hideSecret);
  $("signout").addEventListener("click", signOut);
  showGoogleError();
  loadGoogleButton();
  if (sessionStorage.getItem(SIGNING_OUT)) {
    signOut();
    return;
  }
  loadAccount().catch(showError); // not run(): that would clear the Google error shown above
}

boot();
