// The party's Ed25519 key in the browser: read from the key file, kept in IndexedDB as a
// non-extractable WebCrypto key, used to sign; never sent anywhere.

const DB_NAME = "custody-console";
const STORE = "keys";
const RECORD = "current";

export class KeyFileError extends Error {}

export function b64(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

export function unb64(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function unb64url(text) {
  const pad = "=".repeat((4 - (text.length % 4)) % 4);
  return unb64(text.replace(/-/g, "+").replace(/_/g, "/") + pad);
}

export async function sha256hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function pemBody(text) {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text)) {
    throw new KeyFileError(
      "This key file is protected by a passphrase. The console reads unencrypted key files " +
        "only: sign with the command line (CUSTODY_KEY_PASSPHRASE), or export an unencrypted copy.",
    );
  }
  const m = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(text);
  if (!m) {
    if (/^[A-Za-z0-9+/]{43}=\s*$/.test(text.trim())) {
      throw new KeyFileError(
        "This is a public key (.pub). Choose the private key file (.key) next to it.",
      );
    }
    throw new KeyFileError(
      "This is not a custody key file: expected a PKCS#8 PEM private key " +
        "(-----BEGIN PRIVATE KEY-----), as `custody keys generate` writes.",
    );
  }
  return unb64(m[1].replace(/\s+/g, ""));
}

// Import a key file's text: {privateKey (non-extractable CryptoKey), publicKey (base64), kid}.
export async function importKeyFile(text) {
  const der = pemBody(text);
  let extractable;
  try {
    extractable = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, true, [
      "sign",
    ]);
  } catch (e) {
    if (e && e.name === "NotSupportedError") {
      throw new KeyFileError(
        "This browser cannot sign with Ed25519 keys (WebCrypto). Use a current Chromium, " +
          "Firefox or Safari.",
      );
    }
    throw new KeyFileError("This key file does not hold an Ed25519 private key.");
  }
  const jwk = await crypto.subtle.exportKey("jwk", extractable);
  const pub = unb64url(jwk.x);
  const privateKey = await crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "Ed25519", d: jwk.d, x: jwk.x },
    { name: "Ed25519" },
    false,
    ["sign"],
  );
  return { privateKey, publicKey: b64(pub), kid: await sha256hex(pub) };
}

// A new key pair made in the browser: {pem (the key file), publicKey (base64)}.
export async function generateKeyFile() {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const body = b64(pkcs8).replace(/(.{64})/g, "$1\n").trim();
  const pem = `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
  return { pem, publicKey: b64(raw) };
}

export async function sign(privateKey, bytes) {
  return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, privateKey, bytes));
}

// DSSE pre-authentication encoding (SPEC §4): "DSSEv1 <len type> <type> <len body> <body>".
export function pae(payloadType, payload) {
  const enc = new TextEncoder();
  const type = enc.encode(payloadType);
  const head = enc.encode(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

export const PAYLOAD_TYPE = "application/vnd.custody.statement+json";

// A DSSE envelope of the statement payload, signed with the stored key.
export async function envelope(payload) {
  const key = await loadKey();
  if (!key) throw new KeyFileError("Your key is no longer in this browser: sign in again.");
  const party = document.querySelector('meta[name="custody-party"]');
  if (party && party.content !== key.party) {
    throw new KeyFileError(
      `This browser now holds the key of ${key.party}, not of ${party.content}: sign in again.`,
    );
  }
  const sig = await sign(key.privateKey, pae(PAYLOAD_TYPE, payload));
  return {
    payloadType: PAYLOAD_TYPE,
    payload: b64(payload),
    signatures: [{ keyid: key.kid, sig: b64(sig) }],
  };
}

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function withStore(mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = fn(tx.objectStore(STORE));
    tx.oncomplete = () => {
      db.close();
      resolve(req.result);
    };
    tx.onerror = () => reject(tx.error);
  });
}

export function saveKey(record) {
  return withStore("readwrite", (s) => s.put(record, RECORD));
}

export function loadKey() {
  return withStore("readonly", (s) => s.get(RECORD));
}

export function clearKey() {
  return withStore("readwrite", (s) => s.delete(RECORD));
}

// Headers of a console request: this session's CSRF token, and a typed result asked for
// (an expected refusal comes back as 200 {ok: false, status, error}, not as a 4xx).
export function consoleHeaders(contentType) {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const headers = { "Content-Type": contentType, "X-Custody-Result": "typed" };
  if (meta) headers["X-CSRF-Token"] = meta.content;
  return headers;
}

// The {ok, status, body} of a console answer (typed results included).
export async function resultOf(res) {
  let body = null;
  try {
    body = await res.json();
  } catch (e) {
    body = null;
  }
  if (body && body.ok === false && body.error) {
    return { ok: false, status: body.status || res.status, body };
  }
  return { ok: res.ok, status: res.status, body };
}

// JSON POST to the console with this session's CSRF token; {ok, status, body}.
export async function post(url, data) {
  const res = await fetch(url, {
    method: "POST",
    headers: consoleHeaders("application/json"),
    body: JSON.stringify(data),
    credentials: "same-origin",
  });
  return resultOf(res);
}

export function errorOf(result) {
  const err = result.body && result.body.error;
  if (err) return err;
  return { code: "http." + result.status, message: `The server answered ${result.status}.`, details: {} };
}
