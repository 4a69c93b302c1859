// Building the screens: plain DOM, no HTML strings (nothing typed or received can become
// markup), no inline style (the bank's CSP forbids it).
import { t } from "./messages.js";

// h("button", {type: "button", onclick: f}, "text", child, [more], null)
export function h(tag, attrs = {}, ...children) {
  const el = tag.includes(":") ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// One labelled input with its error line below it (always in the page, empty until needed,
// so aria-describedby always names an element that exists).
export function field(id, labelKey, attrs = {}) {
  return h("div", { class: "field" },
    h("label", { for: id }, t(labelKey)),
    h("input", { id, name: id, type: "text", autocapitalize: "off", spellcheck: "false", ...attrs }),
    h("p", { id: `${id}-error`, class: "error", role: "alert" }));
}

// Secrets: digits only, never remembered or suggested by the browser.
export function pinField(id, labelKey) {
  return field(id, labelKey, { type: "password", inputmode: "numeric", autocomplete: "off", maxlength: "16" });
}

// Shows `errors` ({inputId: text}) under their fields and clears the others; focuses the
// first field in error. Returns true when there was any.
export function showErrors(form, errors) {
  let first = null;
  for (const input of form.querySelectorAll("input")) {
    const line = document.getElementById(`${input.id}-error`);
    if (!line) continue;
    const text = errors[input.id] || "";
    line.textContent = text;
    if (text) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", line.id);
      first = first || input;
    } else {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
  }
  if (first) first.focus();
  return first !== null;
}

// A message for the whole screen (role=alert for errors, status for news).
export function notice(id, kind = "error") {
  return h("p", { id, class: kind, role: kind === "error" ? "alert" : "status" });
}

export function say(id, text) {
  const el = document.getElementById(id);
  if (el) el.textContent = text || "";
}

export function value(id) {
  return (document.getElementById(id)?.value || "").trim();
}

// What went wrong with the vault, in the customer's words (the vault's stable codes).
export function vaultMessage(error) {
  const key = { vault_tampered: "err_vault_tampered", device_secret_missing: "err_device_secret_missing", vault_exists: "err_vault_exists", vault_wiped: "err_vault_wiped" }[error && error.code];
  return t(key || "err_vault");
}

export function busy(form, on) {
  for (const control of form.querySelectorAll("button, input")) control.disabled = on;
}
