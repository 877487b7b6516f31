"use strict";
// The Triport console page: a plain client of the console HTTP contract (same origin, cookies).
// Server data is only ever written with textContent, never parsed as HTML.

const $ = (id) => document.getElementById(id);
const SIGNING_OUT = "triport.signingOut"; // survives a reload, so a pending sign-out resumes
const WALLET_ADDRESS = "triport.walletAddress"; // public: shown as "Signed in as 0x12ab…cdef"
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
    this.reason = body && typeof body.reason === "string" ? body.reason : null; // spec §2.10
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
  const answer = await api("POST", "/v1/auth/passkey/verify", { credential, ...signInOptions() });
  await loadAccount();
  reportSignedOutOthers(answer);
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
  sessionStorage.removeItem(WALLET_ADDRESS);
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
  hideSessionCards();
}

function showAccount(me) {
  $("me-email").textContent = me.user.email ?? "—";
  $("me-name").textContent = me.user.display_name ?? "—";
  $("me-provider").textContent = me.provider;
  $("me-key").textContent = describeKey(me.default_key);
  $("signin").hidden = true;
  for (const id of ["account", "passkeys", "keys", "signout"]) $(id).hidden = false;
  setStatus(`Signed in as ${me.user.email ?? me.user.display_name ?? walletName(me)}.`);
  if (me.default_key.raw) showSecret("Secret of your default key", me.default_key);
  showSessionCards();
}

/** A wallet user has no email or name: the address this page signed in with, if it knows it. */
function walletName(me) {
  if (me.provider !== "wallet") return me.user.id;
  const address = sessionStorage.getItem(WALLET_ADDRESS);
  return address ? `${address.slice(0, 6)}…${address.slice(-4)}` : "your wallet";
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
  knownKeys = new Map(keys.map((key) => [key.id, key]));
  const rows = keys.map((key) => {
    const tr = document.createElement("tr");
    const cell = (text, label) => {
      const td = document.createElement("td");
      td.textContent = text;
      td.dataset.label = label; // shown before the value when the table becomes cards
      tr.append(td);
      return td;
    };
    const details = [key.key_prefix, `created ${key.created_at.slice(0, 10)}`].map((text) => {
      const line = document.createElement("span");
      line.className = "detail";
      line.textContent = text;
      return line;
    });
    cell(key.is_default ? `${key.name} (default)` : key.name, "Key").append(...details);
    cell(describeScopes(key.scopes), "Scopes");
    cell(key.rate_limit > 0 ? `${key.rate_limit} req/s` : "No limit", "Rate limit");
    cell(key.last_used_at ? formatWhen(key.last_used_at) : "Never", "Last used");
    cell(key.status, "Status").classList.add(key.status);
    const actions = cell("", "Actions");
    actions.className = "actions";
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
    if (err.status === 401) {
      showSignIn("");
      showEnded(err.reason);
      return;
    }
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
  const answer = await api("POST", "/v1/auth/email/verify", {
    request_id: loginRequestId,
    code,
    ...signInOptions(),
  });
  $("code").value = "";
  await loadAccount();
  reportSignedOutOthers(answer);
}

async function loadAccount() {
  let me;
  try {
    me = await api("GET", "/v1/auth/me");
  } catch (err) {
    if (err.status !== 401) throw err;
    showSignIn("");
    if (err.reason) showEnded(err.reason); // a session this browser held ended elsewhere
    return;
  }
  showAccount(me);
  await Promise.all([loadKeys(), loadPasskeys()]);
  await loadSessionCards();
}

async function loadKeys() {
  renderKeys((await api("GET", "/v1/keys")).keys);
}

async function createKey() {
  const scopes = [...document.querySelectorAll('#key-scopes input[name="scope"]:checked')].map(
    (box) => box.value,
  );
  const rateLimit = Number($("key-rate-limit").value || "0");
  if (!Number.isInteger(rateLimit) || rateLimit < 0) {
    $("key-rate-limit").focus();
    throw { message: "The rate limit must be a whole number of requests per second, 0 or more." };
  }
  const body = { name: $("key-name").value, scopes, rate_limit: rateLimit };
  const answer = await api("POST", "/v1/keys", body);
  $("create-form").reset();
  await loadKeys();
  await loadActivity();
  const label = `Secret of the new key “${answer.key.name}”`;
  showSecret(label, { id: answer.key.id, raw: answer.raw });
}

/** Rotating or revoking breaks whatever still uses the secret: the person confirms first. */
function confirmKeyAction(button) {
  const key = knownKeys.get(button.dataset.id);
  const name = key ? `“${key.name}”` : "this key";
  const prefix = key ? ` (${key.key_prefix}…)` : "";
  if (button.dataset.action === "revoke") {
    return confirmAction({
      title: `Revoke key ${name}?`,
      text: `The key${prefix} stops working immediately and cannot be used again. This cannot be undone.`,
      action: "Revoke key",
    });
  }
  const usedBy = key && key.is_default ? " It is your default key." : "";
  return confirmAction({
    title: `Rotate key ${name}?`,
    text:
      `A new secret replaces the current one${prefix}, which stops working immediately: ` +
      `anything still using it fails until you deploy the new secret.${usedBy}`,
    action: "Rotate key",
  });
}

async function keyAction(button) {
  const id = encodeURIComponent(button.dataset.id);
  if (button.dataset.action === "revoke") {
    await api("DELETE", `/v1/keys/${id}`);
    if ($("secret").dataset.keyId === button.dataset.id) hideSecret(); // a dead key's secret
    await loadKeys();
    await loadActivity();
    setStatus("Key revoked.");
    return;
  }
  const answer = await api("POST", `/v1/keys/${id}/rotate`);
  if (answer.new.is_default) $("me-key").textContent = describeKey(answer.new);
  await loadKeys();
  await loadActivity();
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
  $("sessions").inert = true;
  $("activity").inert = true;
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
    $("sessions").inert = false;
    $("activity").inert = false;
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

// ---- wallet sign-in ------------------------------------------------------------------------
// The server issues a standard sign-in message (EIP-4361 / Sign-In-With-Solana) naming this
// console; the wallet shows it, checks its domain against this page, and signs it byte for byte.

// A person reads the message and approves it in the wallet; after this the page stops waiting.
const WALLET_TIMEOUT_MS = 120_000;
const USER_REJECTED = 4001; // EIP-1193; Phantom uses the same code
const REQUEST_PENDING = -32002; // EIP-1193 wallets: a request of this site already waits

const WALLET_TEXT = {
  evm: { name: "Ethereum", none: "No Ethereum wallet was found in this browser. Install one (for example MetaMask) or sign in with email." },
  solana: { name: "Solana", none: "No Solana wallet was found in this browser. Install one (for example Phantom) or sign in with email." },
};

/** A wallet-side failure: shown as it is, never sent anywhere. */
class WalletError extends Error {}

const evmWallets = new Map(); // EIP-6963 announcements by provider uuid
const standardWallets = new Set(); // Wallet Standard registrations

function listenForWallets() {
  window.addEventListener("eip6963:announceProvider", (event) => {
    const detail = event.detail;
    if (detail && detail.info && detail.provider && typeof detail.provider.request === "function") {
      evmWallets.set(String(detail.info.uuid), detail);
    }
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  // Wallet Standard: wallets register with the app, whichever of the two loaded first.
  const register = (...wallets) => {
    for (const wallet of wallets) standardWallets.add(wallet);
    return () => wallets.forEach((wallet) => standardWallets.delete(wallet));
  };
  window.addEventListener("wallet-standard:register-wallet", (event) => {
    if (typeof event.detail === "function") event.detail({ register });
  });
  try {
    window.dispatchEvent(new CustomEvent("wallet-standard:app-ready", { detail: { register } }));
  } catch {
    // A wallet's listener threw; the other discovery paths still work.
  }
}

function withTimeout(promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      reject(new WalletError("Your wallet did not answer within 2 minutes. Open the wallet and try again."));
    }, WALLET_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Turns what a wallet threw into a message for the person. */
function walletFailure(err, chain) {
  if (err instanceof WalletError || err instanceof ApiError) return err;
  const code = err && typeof err === "object" ? err.code : undefined;
  if (code === USER_REJECTED || (err && err.name === "WalletSignMessageError" && /reject/i.test(err.message))) {
    return new WalletError("You rejected the request in your wallet. Nothing was signed and you are not signed in.");
  }
  if (code === REQUEST_PENDING) {
    return new WalletError("Your wallet already has a request from this site waiting. Open the wallet to answer it.");
  }
  const detail = err && typeof err.message === "string" ? ` (${err.message})` : "";
  return new WalletError(`The ${WALLET_TEXT[chain].name} wallet could not sign in${detail}.`);
}

function utf8Hex(text) {
  const bytes = new TextEncoder().encode(text);
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function base64(bytes) {
  return btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
}

/** Every EVM wallet the page can use: EIP-6963 announcements, else window.ethereum. */
function evmProviders() {
  window.dispatchEvent(new Event("eip6963:requestProvider")); // wallets answer synchronously
  const announced = [...evmWallets.values()];
  if (announced.length > 0) return announced;
  const legacy = window.ethereum;
  if (legacy && typeof legacy.request === "function") {
    return [{ info: { name: "your browser wallet" }, provider: legacy }];
  }
  return [];
}

/** Several wallets are installed: one button per wallet, each starting the sign-in with it. */
function offerWallets(wallets) {
  const box = $("wallet-choices");
  const buttons = wallets.map(({ info, provider }) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = `Sign in with ${info.name}`;
    button.addEventListener("click", handler(() => walletSignIn("evm", provider)));
    return button;
  });
  box.replaceChildren(box.firstElementChild, ...buttons);
  box.hidden = false;
  buttons[0].focus(); // announces the group's label: "Several Ethereum wallets … Choose one:"
  setStatus("");
}

async function signInWithEvm(provider) {
  setStatus("Waiting for your Ethereum wallet: approve the connection.", true);
  const accounts = await withTimeout(provider.request({ method: "eth_requestAccounts" }));
  const address = Array.isArray(accounts) ? accounts[0] : undefined;
  if (typeof address !== "string") throw new WalletError("Your Ethereum wallet shared no account.");
  const challenge = await api("POST", "/v1/auth/wallet/challenge", { address, chain: "evm" });
  setStatus("Waiting for your Ethereum wallet: check the message and sign it.", true);
  const signature = await withTimeout(
    provider.request({ method: "personal_sign", params: [utf8Hex(challenge.message), address] }),
  );
  return { nonce: challenge.nonce, address, chain: "evm", signature };
}

/** Phantom's injected provider, or a Wallet Standard wallet that signs Solana messages. */
function findSolanaWallet() {
  const injected = (window.phantom && window.phantom.solana) || window.solana;
  if (injected && typeof injected.signMessage === "function") return { injected };
  for (const wallet of standardWallets) {
    const features = wallet.features || {};
    const solana = (wallet.chains || []).some((chain) => String(chain).startsWith("solana:"));
    if (solana && features["standard:connect"] && features["solana:signMessage"]) return { standard: wallet };
  }
  return null;
}

async function connectSolana(found) {
  if (found.injected) {
    const answer = await withTimeout(found.injected.connect());
    const key = (answer && answer.publicKey) || found.injected.publicKey;
    const address = key ? key.toString() : "";
    return {
      address,
      sign: async (bytes) => (await found.injected.signMessage(bytes, "utf8")).signature,
    };
  }
  const wallet = found.standard;
  const { accounts } = await withTimeout(wallet.features["standard:connect"].connect());
  const account = accounts && accounts[0];
  return {
    address: account ? account.address : "",
    sign: async (message) => {
      const [output] = await wallet.features["solana:signMessage"].signMessage({ account, message });
      return output.signature;
    },
  };
}

async function signInWithSolana() {
  const found = findSolanaWallet();
  if (!found) throw new WalletError(WALLET_TEXT.solana.none);
  setStatus("Waiting for your Solana wallet: approve the connection.", true);
  const { address, sign } = await connectSolana(found);
  if (!address) throw new WalletError("Your Solana wallet shared no account.");
  const challenge = await api("POST", "/v1/auth/wallet/challenge", { address, chain: "solana" });
  setStatus("Waiting for your Solana wallet: check the message and sign it.", true);
  const signature = await withTimeout(sign(new TextEncoder().encode(challenge.message)));
  return { nonce: challenge.nonce, address, chain: "solana", signature: base64(signature) };
}

/** The EVM button: one wallet signs in at once, several are offered as a choice. */
function startEvm() {
  const wallets = evmProviders();
  if (wallets.length > 1) {
    offerWallets(wallets);
    return Promise.resolve();
  }
  return walletSignIn("evm", wallets[0] && wallets[0].provider);
}

async function walletSignIn(chain, evmProvider) {
  $("wallet-choices").hidden = true;
  let answer;
  try {
    let proof;
    if (chain === "evm") {
      if (!evmProvider) throw new WalletError(WALLET_TEXT.evm.none);
      proof = await signInWithEvm(evmProvider);
    } else {
      proof = await signInWithSolana();
    }
    setStatus("Signing in…");
    answer = await api("POST", "/v1/auth/wallet/verify", { ...proof, ...signInOptions() });
    sessionStorage.setItem(WALLET_ADDRESS, proof.address);
  } catch (err) {
    setStatus("");
    throw walletFailure(err, chain);
  }
  await loadAccount();
  reportSignedOutOthers(answer);
}

// ---- sessions, activity and sign-out reasons (issue 15, spec §2.9-2.11) ----------------------

// Why a session ended (the 401's `reason`), as the sign-in screen says it.
const ENDED_REASONS = {
  revoked: "You were signed out from another device.",
  signed_out_everywhere: "You were signed out: all other sessions of your account were ended from another device.",
  signed_out: "You signed out of this session.",
  replaced: "A newer sign-in in this browser replaced your session.",
  admin: "An administrator ended your session.",
  expired: "Your session expired.",
};
const ENDED_UNKNOWN = "Your session has ended.";

const EVENT_WORDS = {
  signed_in: "Signed in",
  signed_out: "Signed out",
  session_revoked: "Signed out another session",
  signed_out_everywhere: "Signed out of all other sessions",
  key_created: "API key created",
  key_rotated: "API key rotated",
  key_revoked: "API key revoked",
  passkey_added: "Passkey added",
  passkey_removed: "Passkey removed",
};
const PROVIDER_WORDS = { email: "email", google: "Google", wallet: "a wallet", passkey: "a passkey" };
const ACTIVITY_PAGE = 20;

let knownKeys = new Map(); // the listed keys by id: names for the confirmations and the activity
let activityNext = null; // the cursor of the next activity page, or null

/** Words for a 401's reason, shown on the sign-in screen until the next sign-in. */
function showEnded(reason) {
  $("ended").textContent = `${ENDED_REASONS[reason] ?? ENDED_UNKNOWN} Sign in again to continue.`;
  $("ended").hidden = false;
}

function hideSessionCards() {
  for (const id of ["sessions", "activity"]) $(id).hidden = true;
  $("session-rows").replaceChildren();
  $("activity-rows").replaceChildren();
  knownKeys = new Map();
  activityNext = null;
}

function showSessionCards() {
  $("ended").hidden = true;
  for (const id of ["sessions", "activity"]) $(id).hidden = false;
}

/** The sign-in body's extra fields: the "Sign out of all other devices" choice (spec §2.9). */
function signInOptions() {
  return $("sign-out-others").checked ? { sign_out_others: true } : {};
}

function reportSignedOutOthers(answer) {
  if (typeof answer.signed_out_others !== "number") return;
  const n = answer.signed_out_others;
  setStatus(`${$("status").textContent} Signed out ${n} other ${n === 1 ? "session" : "sessions"}.`);
  $("sign-out-others").checked = false;
}

/** Google sign-in is a navigation: the choice travels in the start URL. */
function updateGoogleLink() {
  const query = $("sign-out-others").checked ? "?sign_out_others=1" : "";
  $("google").href = `/v1/auth/google/start${query}`;
}

/** A time as a person reads it: "3 minutes ago" within a day, else the date and time. */
function formatWhen(iso) {
  const when = new Date(iso);
  const seconds = Math.round((when.getTime() - Date.now()) / 1000);
  if (Math.abs(seconds) < 60) return "just now";
  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  if (Math.abs(seconds) < 3600) return relative.format(Math.round(seconds / 60), "minute");
  if (Math.abs(seconds) < 86400) return relative.format(Math.round(seconds / 3600), "hour");
  return when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function describeScopes(scopes) {
  return scopes.includes("*") ? "All chains" : scopes.join(", ");
}

/** A <time> element: readable text, the exact instant in `datetime` and as a tooltip. */
function timeElement(iso) {
  const time = document.createElement("time");
  time.dateTime = iso;
  time.title = new Date(iso).toLocaleString();
  time.textContent = formatWhen(iso);
  return time;
}

function textElement(tag, className, text) {
  const element = document.createElement(tag);
  element.className = className;
  element.textContent = text;
  return element;
}

/**
 * Asks in a modal dialog; resolves true only on the confirming button (Cancel, Escape → false).
 * The dialog is the platform's <dialog>: focus moves into it and returns to the opener on close.
 */
function confirmAction({ title, text, action }) {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = action;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
  });
}

function sessionLabel(session) {
  return session.device ?? "Unknown device";
}

function renderSessions(sessions) {
  const rows = sessions.map((session) => {
    const li = document.createElement("li");
    const about = document.createElement("div");
    const title = textElement("span", "name", sessionLabel(session));
    about.append(title);
    if (session.current) about.append(" ", textElement("span", "badge", "This device"));
    const where = textElement("span", "detail wrap", "");
    where.append(`${session.ip ?? "unknown address"} · last active `, timeElement(session.last_seen_at));
    where.append(` · signed in with ${PROVIDER_WORDS[session.provider] ?? session.provider}`);
    about.append(where);
    li.append(about);
    if (!session.current) {
      const revoke = textElement("button", "danger", "Revoke");
      revoke.type = "button";
      revoke.dataset.id = session.id;
      revoke.dataset.label = `${sessionLabel(session)}, ${session.ip ?? "unknown address"}`;
      revoke.setAttribute("aria-label", `Revoke session: ${revoke.dataset.label}`);
      li.append(revoke);
    }
    return li;
  });
  $("session-rows").replaceChildren(...rows);
  const others = sessions.filter((session) => !session.current).length;
  $("revoke-others").hidden = others === 0;
  $("revoke-others").dataset.count = String(others);
}

async function loadSessions() {
  renderSessions((await api("GET", "/v1/auth/sessions")).sessions);
}

async function revokeSession(button) {
  await api("DELETE", `/v1/auth/sessions/${encodeURIComponent(button.dataset.id)}`);
  await Promise.all([loadSessions(), loadActivity()]);
  setStatus(`Signed out the session on ${button.dataset.label}.`);
}

async function revokeOthers() {
  const answer = await api("POST", "/v1/auth/sessions/revoke-others");
  await Promise.all([loadSessions(), loadActivity()]);
  const n = answer.revoked;
  setStatus(`Signed out ${n} other ${n === 1 ? "session" : "sessions"}. You are still signed in here.`);
}

function eventText(event) {
  let text = EVENT_WORDS[event.type] ?? event.type;
  if (event.type === "signed_in" && event.provider) {
    text += ` with ${PROVIDER_WORDS[event.provider] ?? event.provider}`;
  }
  const key = event.key_id && knownKeys.get(event.key_id);
  if (key) text += `: “${key.name}”`;
  return text;
}

function eventRow(event) {
  const li = document.createElement("li");
  const about = document.createElement("div");
  about.append(textElement("span", "name", eventText(event)));
  const detail = textElement("span", "detail wrap", "");
  const where = [event.device, event.ip].filter(Boolean).join(" · ");
  detail.append(timeElement(event.at), where ? ` · ${where}` : "");
  about.append(detail);
  li.append(about);
  return li;
}

/** The first page (`more` false) or the next one, appended. */
async function loadActivity(more = false) {
  const query = new URLSearchParams({ limit: String(ACTIVITY_PAGE) });
  if (more && activityNext) query.set("before", activityNext);
  const page = await api("GET", `/v1/auth/activity?${query}`);
  const rows = page.events.map(eventRow);
  if (more) $("activity-rows").append(...rows);
  else $("activity-rows").replaceChildren(...rows);
  activityNext = page.next;
  $("activity-more").hidden = page.next === null;
  $("activity-empty").hidden = $("activity-rows").childElementCount > 0;
  return rows;
}

async function loadMoreActivity() {
  const rows = await loadActivity(true);
  if (rows.length > 0 && $("activity-more").hidden) {
    rows[0].tabIndex = -1; // the button is gone: focus goes to the first new event
    rows[0].focus();
  }
}

async function loadSessionCards() {
  await Promise.all([loadSessions(), loadActivity()]);
}

function bootSessionCards() {
  $("sign-out-others").addEventListener("change", updateGoogleLink);
  $("session-rows").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-id]");
    if (!button) return;
    const confirmed = await confirmAction({
      title: "Revoke this session?",
      text: `${button.dataset.label} will be signed out at once. Anyone using it there must sign in again.`,
      action: "Revoke session",
    });
    if (confirmed) run(() => revokeSession(button), button);
  });
  $("revoke-others").addEventListener("click", async (event) => {
    const n = Number(event.currentTarget.dataset.count);
    const confirmed = await confirmAction({
      title: "Sign out all other sessions?",
      text: `${n} other ${n === 1 ? "session" : "sessions"} of your account will be signed out at once. You stay signed in here.`,
      action: "Sign out other sessions",
    });
    if (confirmed) run(revokeOthers, $("revoke-others"));
  });
  $("activity-more").addEventListener("click", handler(loadMoreActivity));
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
  $("key-rows").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (button && (await confirmKeyAction(button))) run(() => keyAction(button), button);
  });
  $("secret-copy").addEventListener("click", handler(copySecret));
  $("secret-done").addEventListener("click", hideSecret);
  $("signout").addEventListener("click", signOut);
  $("wallet-evm").addEventListener("click", handler(startEvm));
  $("wallet-solana").addEventListener("click", handler(() => walletSignIn("solana")));
  listenForWallets();
  bootSessionCards();
  showGoogleError();
  loadGoogleButton();
  if (sessionStorage.getItem(SIGNING_OUT)) {
    signOut();
    return;
  }
  loadAccount().catch(showError); // not run(): that would clear the Google error shown above
}

boot();
