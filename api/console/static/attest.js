// Statement forms: the server builds the statement, this browser shows it in plain words,
// signs it with the party's key (DSSE) and submits the envelope (/attest/submit, which is
// POST /v1/entries underneath).
import { KeyFileError, consoleHeaders, envelope, errorOf, post, resultOf, sha256hex, unb64 } from "./keys.js";

const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 6 });

function fmt(value) {
  const n = Number(value);
  return Number.isFinite(n) ? number.format(n) : String(value);
}

function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const result = form.querySelector(".result");
  if (result) {
    result.textContent = "";
    result.className = "result";
  }
}

function showResult(form, message, kind, digest) {
  const result = form.querySelector(".result");
  result.textContent = message;
  if (digest) {
    // what differs from run to run is marked, so the docs' screenshots can mask it
    const span = document.createElement("code");
    span.className = "volatile";
    span.textContent = digest;
    result.append(" (", span, ").");
  }
  result.className = "result " + kind;
}

function showFieldError(form, field, message) {
  const slot = field && form.querySelector(`.field-error[data-for="${field}"]`);
  if (!slot) {
    showResult(form, message, "error");
    return;
  }
  slot.textContent = message;
  const input = form.querySelector(`[name="${field}"]`);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

function unitOf(form, lot) {
  for (const opt of form.querySelectorAll("option[data-unit]")) {
    if (opt.value === lot) return opt.dataset.unit;
  }
  return "";
}

function rowOf(form, lot) {
  for (const sel of form.querySelectorAll('select[name^="in_lot_"]')) {
    if (sel.value === lot) return sel.name.replace("in_lot_", "");
  }
  return "0";
}

// Where a refusal belongs, and how to say it.
function placeError(form, type, err) {
  const d = err.details || {};
  const rule = (err.code || "").split(".").slice(1).join(".");
  let field = d.form_field || null;
  let message = err.message;
  if (!field && ["overdraw", "not_held", "unit_dimension"].includes(rule)) {
    field = type === "transform" ? "in_qty_" + rowOf(form, d.lot) : "quantity";
    if (rule === "overdraw" && d.held !== undefined) {
      const unit = unitOf(form, d.lot);
      message =
        `You hold ${fmt(d.held)} ${unit} of ${d.lot}, this ${type} needs ${fmt(d.drawn)} ${unit}. ` +
        `(${err.message})`;
    } else if (rule === "not_held") {
      message = `You do not hold ${d.lot}. (${err.message})`;
    }
  } else if (!field && ["unknown_lot", "duplicate_lot", "self_transform"].includes(rule)) {
    field = type === "transform" ? (rule === "duplicate_lot" ? "out_lot_0" : "in_lot_" + rowOf(form, d.lot)) : "lot";
  } else if (!field && ["unknown_party", "self_dispatch"].includes(rule)) {
    field = { dispatch: "to", revoke: "party", party: "party_id" }[type] || null;
  } else if (!field && rule === "duplicate_party") {
    field = "party_id";
  } else if (!field && ["duplicate_key", "unknown_key", "already_revoked"].includes(rule)) {
    field = "public_key";
  }
  showFieldError(form, field, message);
}

async function fieldsOf(form) {
  const data = { type: form.dataset.type };
  for (const el of form.elements) {
    if (!el.name || el.type === "file" || el.type === "submit" || el.type === "button") continue;
    if (el.type === "checkbox") {
      if (!data[el.name]) data[el.name] = [];
      if (el.checked) data[el.name].push(el.value);
      continue;
    }
    data[el.name] = el.value;
  }
  const file = form.querySelector('input[type="file"]');
  if (file) {
    const chosen = file.files && file.files[0];
    if (!chosen) throw Object.assign(new Error("Choose the document."), { field: "file" });
    const bytes = new Uint8Array(await chosen.arrayBuffer());
    form._document = bytes;
    data.sha256 = await sha256hex(bytes);
    data.name = chosen.name;
    data.media_type = chosen.type || "application/octet-stream";
    data.size = chosen.size;
  }
  return data;
}

async function review(form) {
  clearErrors(form);
  let data;
  try {
    data = await fieldsOf(form);
  } catch (e) {
    showFieldError(form, e.field || null, e.message);
    return;
  }
  const built = await post("/attest/build", data);
  if (!built.ok) {
    placeError(form, form.dataset.type, errorOf(built));
    return;
  }
  form._built = built.body;
  const preview = form.querySelector(".preview");
  preview.querySelector(".plain").textContent = built.body.plain;
  preview.querySelector(".statement").textContent = JSON.stringify(
    JSON.parse(built.body.statement),
    null,
    2,
  );
  preview.hidden = false;
  preview.querySelector(".sign").focus();
}

async function uploadDocument(form) {
  const headers = consoleHeaders("application/octet-stream");
  headers["X-Document-Sha256"] = form._built ? JSON.parse(form._built.statement).document.sha256 : "";
  const res = await fetch("/documents", {
    method: "POST",
    headers,
    body: form._document,
    credentials: "same-origin",
  });
  const result = await resultOf(res);
  return result.ok ? null : errorOf(result);
}

// Sign the built payload and submit it through the console (POST /v1/entries underneath,
// the same custody rules): {ok, body: {seq, digest}} or {ok: false, error}.
export async function signAndSubmit(built) {
  const env = await envelope(unb64(built.payload));
  const res = await fetch("/attest/submit", {
    method: "POST",
    headers: consoleHeaders("application/json"),
    body: JSON.stringify(env),
    credentials: "same-origin",
  });
  const result = await resultOf(res);
  if (result.ok) return { ok: true, body: result.body };
  return { ok: false, error: errorOf(result) };
}

async function signForm(form) {
  clearErrors(form);
  const built = form._built;
  if (!built) return;
  const button = form.querySelector(".sign");
  button.disabled = true;
  try {
    if (form._document) {
      const failed = await uploadDocument(form);
      if (failed) {
        showFieldError(form, "file", failed.message);
        return;
      }
    }
    const done = await signAndSubmit(built);
    if (!done.ok) {
      form.querySelector(".preview").hidden = true;
      placeError(form, form.dataset.type, done.error);
      return;
    }
    form.querySelector(".preview").hidden = true;
    form._built = null;
    showResult(
      form,
      `Signed and recorded as ledger entry ${done.body.seq}`,
      "ok",
      `${done.body.digest.slice(0, 19)}…`,
    );
    form.dispatchEvent(new CustomEvent("custody:recorded", { bubbles: true, detail: done.body }));
  } catch (e) {
    showResult(form, e instanceof KeyFileError ? e.message : "Signing failed: " + e.message, "error");
  } finally {
    button.disabled = false;
  }
}

for (const form of document.querySelectorAll("form.attest")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    review(form);
  });
  form.querySelector(".sign").addEventListener("click", () => signForm(form));
  form.querySelector(".edit").addEventListener("click", () => {
    form.querySelector(".preview").hidden = true;
  });
}

// One-click receipts of incoming dispatches.
for (const button of document.querySelectorAll("button.receipt")) {
  button.addEventListener("click", async () => {
    const slot = button.parentElement.querySelector(".field-error");
    slot.textContent = "";
    button.disabled = true;
    try {
      const built = await post("/attest/build", { type: "receipt", dispatch: button.dataset.dispatch });
      if (!built.ok) {
        slot.textContent = errorOf(built).message;
        return;
      }
      const done = await signAndSubmit(built.body);
      if (!done.ok) {
        slot.textContent = done.error.message;
        return;
      }
      window.location.reload();
    } catch (e) {
      slot.textContent = e.message;
    } finally {
      button.disabled = false;
    }
  });
}

// After a statement is recorded, reload lists that depend on it (after a short pause to read).
document.addEventListener("custody:recorded", (event) => {
  const form = event.target;
  if (form.dataset.reload === "true") window.setTimeout(() => window.location.reload(), 800);
});
