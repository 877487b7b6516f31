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

// ---- views ---------------------------------------------------------------------------------

function showSignIn(message) {
  sessionStorage.removeItem(WALLET_ADDRESS);
  for (const id of ["account", "keys", "signout"]) $(id).hidden = true;
  hideSecret();
  $("key-rows").replaceChildren();
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
  for (const id of ["account", "keys", "signout"]) $(id).hidden = false;
  setStatus(`Signed in as ${me.user.email ?? me.user.display_name ?? walletName(me)}.`);
  if (me.default_key.raw) showSecret("Secret of your default key", me.default_key);
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
  await loadKeys();
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
  try {
    let proof;
    if (chain === "evm") {
      if (!evmProvider) throw new WalletError(WALLET_TEXT.evm.none);
      proof = await signInWithEvm(evmProvider);
    } else {
      proof = await signInWithSolana();
    }
    setStatus("Signing in…");
    await api("POST", "/v1/auth/wallet/verify", proof);
    sessionStorage.setItem(WALLET_ADDRESS, proof.address);
  } catch (err) {
    setStatus("");
    throw walletFailure(err, chain);
  }
  await loadAccount();
}

function boot() {
  $("email-form").addEventListener("submit", handler(startEmail));
  $("code-form").addEventListener("submit", handler(verifyCode));
  $("code-back").addEventListener("click", () => showSignIn(""));
  $("create-form").addEventListener("submit", handler(createKey));
  $("key-rows").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) run(() => keyAction(button), button);
  });
  $("secret-copy").addEventListener("click", handler(copySecret));
  $("secret-done").addEventListener("click", hideSecret);
  $("signout").addEventListener("click", signOut);
  $("wallet-evm").addEventListener("click", handler(startEvm));
  $("wallet-solana").addEventListener("click", handler(() => walletSignIn("solana")));
  listenForWallets();
  showGoogleError();
  loadGoogleButton();
  if (sessionStorage.getItem(SIGNING_OUT)) {
    signOut();
    return;
  }
  loadAccount().catch(showError); // not run(): that would clear the Google error shown above
}

boot();
