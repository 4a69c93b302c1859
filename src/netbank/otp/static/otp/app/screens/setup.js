// 初期設定 → activation (docs/protocols.md §1), with token_app/tui/setup.py's rules: nothing
// is sent until all is well-formed and the サービスID is this bank's.
import { t, pick, h, screen, form, field, pinField, submit, showErrors, notice, say, value, raw, busy, required, bankKeyRow } from "../dom.js";
import { bankNow } from "../clock.js";
import { SERVICE_ID_RE, halfWidth } from "../bytes.js";
import { activate, normalisePassword, InvalidInputError, ActivationRefusedError, UntrustedAnswerError } from "../activation.js";
import { keysAt, fingerprint, BankKeyExpiredError } from "../installconfig.js";
import { applockScreen } from "./applock.js";

const RULES = {
  "service-id": ["service_id", "err_service_id", (v) => SERVICE_ID_RE.test(v)],
  "user-id": ["user_id", "err_user_id", (v) => /^[0-9]{12}$/.test(v)],
  "activation-password": ["activation_password", "err_activation_password", (v) => { try { return normalisePassword(v); } catch { return false; } }],
};

export function setupScreen(app, state) {
  return screen("setup_title", state,
    h("p", {}, t("setup_intro")),
    form((f) => send(app, f),
      field("service-id", "service_id", { autocomplete: "off" }),
      field("user-id", "user_id", { inputmode: "numeric", autocomplete: "off", maxlength: 12 }),
      pinField("activation-password", "activation_password"),
      notice("setup-error"), h("p", { id: "setup-progress", role: "status" }),
      submit("send")),
    h("dl", { class: "facts" }, bankKeyRow(app)),
    h("p", { class: "note" }, t("bank_key_compare")));
}

async function send(app, f) {
  await app.ready;
  // Full-width digits are the same ユーザID.
  const typed = { "service-id": value("service-id"), "user-id": halfWidth(value("user-id")), "activation-password": raw("activation-password") };
  const errors = {};
  for (const [id, [name, key, ok]] of Object.entries(RULES)) {
    if (!typed[id]) errors[id] = required(name);
    else if (!ok(typed[id])) errors[id] = t(key);
  }
  const expected = app.config?.serviceId;
  if (!errors["service-id"] && expected && typed["service-id"] !== expected) {
    errors["service-id"] = t("err_service_id_other_bank", { bank: app.bankName(), expected });
  }
  say("setup-error", "");
  if (showErrors(f, errors)) return;
  let trustedKeys;
  try {
    trustedKeys = keysAt(app.config, bankNow());
  } catch (e) {
    return say("setup-error", t(e instanceof BankKeyExpiredError ? "err_bank_key_expired" : "err_install_config"));
  }
  busy(f, true);
  say("setup-progress", t("sending"));
  try {
    // The app's own origin is the bank (CSP connects nowhere else).
    const bankUrl = location.origin;
    const token = await activate({ bankUrl, serviceId: typed["service-id"], userId: typed["user-id"], password: typed["activation-password"], trustedKeys });
    const keyFingerprint = await fingerprint(trustedKeys[0].publicKey).catch(() => "");
    app.show(applockScreen, { token: { ...token, bankUrl, keyFingerprint } });
  } catch (e) {
    busy(f, false);
    say("setup-progress", "");
    document.getElementById("activation-password").value = "";
    if (e instanceof InvalidInputError) {
      const id = { serviceId: "service-id", userId: "user-id" }[e.field] || "activation-password";
      showErrors(f, { [id]: t(RULES[id][1]) });
    } else if (e instanceof ActivationRefusedError) {
      say("setup-error", e.code === "throttled" ? t("err_throttled") : `${pick(e.message, e.messageEn) || t("err_activation_refused")} ${t("activation_void_hint")}`);
    } else {
      say("setup-error", t(e instanceof UntrustedAnswerError ? "err_untrusted" : "err_network"));
    }
  }
}
