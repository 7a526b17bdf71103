// The auditor's page: send the zip and the pasted key, show the recomputed verdict.
import { bindTiers } from "./trace.js";

const form = document.getElementById("verify-form");
const out = document.getElementById("verify-result");

function clear() {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  form.querySelector(".result").textContent = "";
}

function fieldError(field, message) {
  const slot = form.querySelector(`.field-error[data-for="${field}"]`) || form.querySelector(".result");
  slot.textContent = message;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clear();
  const file = document.getElementById("bundle").files[0];
  const key = document.getElementById("operator-key").value.trim();
  const entry = document.getElementById("entry-number").value.trim();
  if (!file) return fieldError("bundle", "Choose the bundle zip.");
  if (!key) return fieldError("operator_key", "Paste the operator's verifier key.");
  const button = document.getElementById("verify-button");
  button.disabled = true;
  form.querySelector(".result").textContent = "Verifying…";
  try {
    const url = "/bundles/verify" + (entry ? "?entry_number=" + encodeURIComponent(entry) : "");
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/zip", "X-Operator-Key": key, "X-Custody-Result": "typed" },
      body: file,
      credentials: "same-origin",
    });
    form.querySelector(".result").textContent = "";
    const refused = res.headers.get("X-Custody-Status");
    if (!res.ok || refused) {
      const status = Number(refused || res.status);
      let err = { message: `The server answered ${status}.`, details: {} };
      try {
        err = (await res.json()).error || err;
      } catch (e) {
        /* not JSON */
      }
      const field = (err.details && err.details.form_field) ||
        (err.field === "entry_number" ? "entry_number" : null) ||
        (status === 422 ? "entry_number" : null);
      return fieldError(field || "bundle", err.message);
    }
    out.innerHTML = await res.text();
    bindTiers(out);
  } catch (e) {
    fieldError("bundle", "Verification failed: " + e.message);
  } finally {
    button.disabled = false;
  }
});
