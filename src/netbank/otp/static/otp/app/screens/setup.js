// 初期設定: サービスID, ユーザID, 利用開始パスワード → the activation (docs/protocols.md §1).
// Field rules and messages are the desktop app's (token_app/tui/setup.py). Nothing is sent
// until every field is right and the サービスID is this bank's.
import { t, pick } from "../messages.js";
import { h, field, showErrors, notice, say, value, busy } from "../dom.js";
import { bankNow } from "../clock.js";
import { activate, normalisePassword, InvalidInputError, ActivationRefusedError, UntrustedAnswerError } from "../activation.js";
import { keysAt, fingerprint, BankKeyExpiredError } from "../installconfig.js";
import { applockScreen } from "./applock.js";

const SERVICE_ID = /^[A-Za-z0-9_-]{1,32}$/;
const USER_ID = /^[0-9]{12}$/;

export function setupScreen(app, state) {
  const form = h("form", { novalidate: true, onsubmit: (e) => { e.preventDefault(); send(app, form); } },
    field("service-id", "service_id", { autocomplete: "off" }),
    field("user-id", "user_id", { inputmode: "numeric", autocomplete: "off", maxlength: "12" }),
    field("activation-password", "activation_password", { type: "password", inputmode: "numeric", autocomplete: "off", maxlength: "16" }),
    notice("setup-error"),
    h("p", { id: "setup-progress", role: "status" }),
    h("button", { type: "submit", class: "primary" }, t("send")));
  const print = h("code", { id: "key-fingerprint" });
  showFingerprint(app, print);
  return h("section", {},
    h("h1", {}, t("setup_title")),
    state.notice && h("p", { class: "status", role: "status" }, state.notice),
    h("p", {}, t("setup_intro")),
    form,
    h("dl", { class: "facts" }, h("dt", {}, t("fingerprint")), h("dd", {}, print)),
    h("p", { class: "note" }, t("bank_key_compare")));
}

// The fingerprint of the key this app trusts, to compare with the token mail's.
async function showFingerprint(app, el) {
  try {
    const [key] = keysAt(app.config, Math.floor(bankNow()));
    el.textContent = await fingerprint(key.publicKey);
  } catch {
    el.textContent = "—";
  }
}

// The field errors, as the desktop app words them ({inputId: text}).
export function checkFields(serviceId, userId, password) {
  const errors = {};
  const rules = [
    ["service-id", serviceId, "service_id", "err_service_id", (v) => SERVICE_ID.test(v)],
    ["user-id", userId, "user_id", "err_user_id", (v) => USER_ID.test(v)],
    ["activation-password", password, "activation_password", "err_activation_password", (v) => {
      try { normalisePassword(v); return true; } catch { return false; }
    }],
  ];
  for (const [id, v, name, key, ok] of rules) {
    if (!v) errors[id] = t("err_required", { field: t(name) });
    else if (!ok(v)) errors[id] = t(key);
  }
  return errors;
}

async function send(app, form) {
  const serviceId = value("service-id");
  // Full-width digits (a Japanese keyboard's) are the same ユーザID, as activation.js reads it.
  const userId = value("user-id").replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  const password = document.getElementById("activation-password").value;
  say("setup-error", "");
  const errors = checkFields(serviceId, userId, password);
  if (!Object.keys(errors).length && app.config && serviceId !== app.config.serviceId) {
    errors["service-id"] = t("err_service_id_other_bank", { bank: app.bankName(), expected: app.config.serviceId });
  }
  if (showErrors(form, errors)) return;
  if (!app.config) return say("setup-error", t("err_install_config"));
  let trustedKeys;
  try {
    trustedKeys = keysAt(app.config, Math.floor(bankNow()));
  } catch (error) {
    return say("setup-error", t(error instanceof BankKeyExpiredError ? "err_bank_key_expired" : "err_install_config"));
  }
  busy(form, true);
  say("setup-progress", t("sending"));
  try {
    // The app is served by the bank: its own origin is the bank (CSP connects nowhere else).
    const bankUrl = location.origin;
    const token = await activate({ bankUrl, serviceId, userId, password, trustedKeys });
    // Kept with the token for 設定 (the key that signed this activation's answer).
    const keyFingerprint = await fingerprint(trustedKeys[0].publicKey).catch(() => "");
    app.show(applockScreen, { token: { ...token, bankUrl, keyFingerprint } });
  } catch (error) {
    busy(form, false);
    say("setup-progress", "");
    const input = document.getElementById("activation-password");
    input.value = "";
    refused(error, form);
  }
}

function refused(error, form) {
  if (error instanceof InvalidInputError) {
    const id = { serviceId: "service-id", userId: "user-id", password: "activation-password" }[error.field] || "activation-password";
    showErrors(form, { [id]: t({ "service-id": "err_service_id", "user-id": "err_user_id" }[id] || "err_activation_password") });
  } else if (error instanceof ActivationRefusedError) {
    const text = error.code === "throttled" ? t("err_throttled") : pick(error.message, error.messageEn) || t("err_activation_refused");
    say("setup-error", `${text} ${t("activation_void_hint")}`);
  } else if (error instanceof UntrustedAnswerError) {
    say("setup-error", t("err_untrusted"));
  } else {
    say("setup-error", t("err_network"));
  }
}
