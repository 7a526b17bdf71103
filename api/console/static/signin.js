import { KeyFileError, b64, generateKeyFile, importKeyFile, post, errorOf, saveKey, sign } from "./keys.js";

const form = document.getElementById("signin-form");
const input = document.getElementById("key-file");
const error = document.getElementById("signin-error");
const button = document.getElementById("sign-in");

function show(message) {
  error.textContent = message;
  input.setAttribute("aria-invalid", message ? "true" : "false");
}

function stamp() {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

async function signIn() {
  show("");
  const file = input.files && input.files[0];
  if (!file) {
    show("Choose your key file first.");
    return;
  }
  if (file.size > 16384) {
    show("This file is too large to be a custody key file.");
    return;
  }
  button.disabled = true;
  try {
    const key = await importKeyFile(await file.text());
    const ch = await post("/session/challenge", { kid: key.kid });
    if (!ch.ok) {
      show(errorOf(ch).message);
      return;
    }
    const { party, nonce, origin } = ch.body;
    const timestamp = stamp();
    const message = ["custody-auth/1", origin, party, key.kid, nonce, timestamp].join("\n");
    const signature = await sign(key.privateKey, new TextEncoder().encode(message));
    const done = await post("/session", {
      party,
      kid: key.kid,
      nonce,
      timestamp,
      signature: b64(signature),
    });
    if (!done.ok) {
      show(errorOf(done).message);
      return;
    }
    await saveKey({ party, kid: key.kid, publicKey: key.publicKey, privateKey: key.privateKey });
    window.location.assign(form.dataset.next || done.body.next || "/home");
  } catch (e) {
    show(e instanceof KeyFileError ? e.message : "Sign-in failed: " + e.message);
  } finally {
    button.disabled = false;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  signIn();
});

const newKey = document.getElementById("new-key");
if (newKey) {
  newKey.addEventListener("click", async () => {
    const made = await generateKeyFile();
    const link = document.getElementById("new-key-download");
    link.href = URL.createObjectURL(new Blob([made.pem], { type: "application/x-pem-file" }));
    document.getElementById("new-key-pub").value = made.publicKey;
    document.getElementById("new-key-result").hidden = false;
  });
}
