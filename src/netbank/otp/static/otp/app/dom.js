// The screens' toolkit (words included): plain DOM, never HTML strings or inline style (CSP).
import { t } from "./messages.js";
export { t, pick, language } from "./messages.js";
import { bankNow } from "./clock.js";
import { keysAt, fingerprint } from "./installconfig.js";

// h("p", {class: "x", onclick: f}, "text", node, [more], null)
export function h(tag, attrs = {}, ...kids) {
  const el = tag.startsWith("svg:") ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat(9)) if (kid != null && kid !== false) el.append(kid);
  return el;
}

// A screen: its h1, a news line (state.notice), then the rest.
export const screen = (key, state, ...kids) =>
  h("section", {}, h("h1", {}, t(key)), state?.notice && h("p", { class: "status", role: "status" }, state.notice), ...kids);

export const btn = (key, onclick, cls = "secondary") => h("button", { type: "button", class: cls, onclick }, t(key));

export function form(run, ...kids) {
  const f = h("form", { novalidate: true, onsubmit: (e) => { e.preventDefault(); run(f); } }, ...kids);
  return f;
}

export const submit = (key) => h("button", { type: "submit", class: "primary" }, t(key));

// The error line is always there, so aria-describedby can name it.
export const field = (id, key, attrs = {}) => h("div", { class: "field" },
  h("label", { for: id }, t(key)),
  h("input", { id, name: id, type: "text", autocapitalize: "off", spellcheck: "false", ...attrs }),
  h("p", { id: `${id}-error`, class: "error", role: "alert" }));

export const pinField = (id, key) => field(id, key, { type: "password", inputmode: "numeric", autocomplete: "off", maxlength: 16 });

// {inputId: text} under the fields; focuses the first in error.
export function showErrors(f, errors) {
  let first = null;
  for (const input of f.querySelectorAll("input")) {
    const line = document.getElementById(`${input.id}-error`);
    if (!line) continue;
    const text = (line.textContent = errors[input.id] || "");
    for (const [k, v] of [["aria-invalid", "true"], ["aria-describedby", line.id]]) {
      if (text) input.setAttribute(k, v); else input.removeAttribute(k);
    }
    if (text && !first) first = input;
  }
  first?.focus();
  return Boolean(first);
}

export const notice = (id, kind = "error") => h("p", { id, class: kind, role: kind === "error" ? "alert" : "status" });

export function say(id, text) {
  const el = document.getElementById(id);
  if (el) el.textContent = text || "";
}

export const raw = (id) => document.getElementById(id)?.value ?? "";
export const value = (id) => raw(id).trim();

export function busy(f, on) {
  for (const c of f.querySelectorAll("button, input")) c.disabled = on;
}

// JSON to the bank; no cookies, no cache.
export const postJson = (url, body) => fetch(url, {
  method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "omit", cache: "no-store",
});

export const required = (key) => t("err_required", { field: t(key) });

// The 署名鍵の指紋 row: `known` until install.json is read (kept if it cannot be).
export function bankKeyRow(app, known) {
  const print = h("code", { id: "key-fingerprint" }, known || "—");
  app.ready.then(() => fingerprint(keysAt(app.config, bankNow())[0].publicKey)).then((f) => { print.textContent = f; }, () => {});
  return [h("dt", {}, t("fingerprint")), h("dd", {}, print)];
}

export const vaultMessage = (e) => t({ vault_tampered: "err_vault_tampered", device_secret_missing: "err_device_secret_missing", vault_wiped: "err_vault_wiped" }[e?.code] || "err_vault");
