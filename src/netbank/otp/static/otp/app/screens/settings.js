// 設定: PIN, 指紋・顔認証, remove the token, version, bank key, helpdesk.
import { t, language, h, screen, form, btn, pinField, submit, showErrors, notice, say, raw, busy, vaultMessage, required, bankKeyRow } from "../dom.js";
import { changePin, wipe, status, clearPrf, WrongPinError, PinDelayError, VaultWipedError } from "../vault.js";
import { prfSupported, enrolBiometric } from "../biometric.js";
import { checkNewPin, pinOrNull } from "./applock.js";
import { backToCode } from "./code.js";

export function settingsScreen(app, state) {
  const bio = h("div", { id: "biometric-setting" });
  showBiometric(app, bio);
  return screen("settings", state,
    h("h2", {}, t("change_pin")),
    form((f) => newPin(app, f), pinField("pin-current", "pin_current"), pinField("pin-new", "pin_new"),
      pinField("pin-again", "pin_again"), notice("pin-status"), submit("change")),
    h("h2", {}, t("biometric")), bio,
    h("h2", {}, t("remove_token")), btn("remove_token", () => app.show(removeScreen), "danger"),
    h("dl", { class: "facts" },
      h("dt", {}, t("app_version")), h("dd", { id: "app-version" }, app.data.version),
      bankKeyRow(app, app.token.keyFingerprint)),
    helpdesk(app.data),
    backToCode(app));
}

// The leaflet's two numbers: help with the service, and the emergency stop.
function helpdesk(d) {
  const en = language() === "en" ? "En" : "";
  return h("section", { class: "helpdesk" },
    h("h2", {}, t("helpdesk_title")),
    h("p", {}, t("helpdesk_general", { phone: d.helpdeskPhone, option: d.helpdeskGeneral })),
    h("p", {}, t("helpdesk_hours", { weekday: d[`helpdeskWeekday${en}`], holiday: d[`helpdeskHoliday${en}`], closed: d[`helpdeskClosed${en}`] })),
    h("p", {}, t("helpdesk_emergency", { phone: d.helpdeskPhone, option: d.helpdeskEmergency })),
    h("a", { class: "button", href: `tel:${d.helpdeskPhone}` }, `☎ ${d.helpdeskPhone}`));
}

async function showBiometric(app, box) {
  const on = await status().then((s) => s.biometric, () => false);
  const toggle = () => (on ? clearPrf() : enrolBiometric(app.handle)).then(
    () => app.show(settingsScreen, { notice: t(on ? "biometric_disabled" : "biometric_enabled") }),
    () => say("bio-status", t(on ? "err_vault" : "biometric_failed")));
  box.replaceChildren(on || (await prfSupported()) ? btn(on ? "biometric_off" : "biometric_on", toggle) : h("p", {}, t("biometric_unavailable")), notice("bio-status"));
}

async function newPin(app, f) {
  const errors = { ...checkNewPin("pin-new", "pin-again") };
  if (!raw("pin-current")) errors["pin-current"] = required("pin_current");
  if (showErrors(f, errors)) return;
  busy(f, true);
  try {
    app.handle = await changePin(pinOrNull(raw("pin-current")) || raw("pin-current"), pinOrNull(raw("pin-new")));
    app.show(settingsScreen, { notice: t("pin_changed") });
  } catch (e) {
    busy(f, false);
    if (e instanceof VaultWipedError) return app.start(t("err_vault_wiped"));
    for (const id of ["pin-current", "pin-new", "pin-again"]) document.getElementById(id).value = "";
    const text = e instanceof WrongPinError ? `${t("err_wrong_pin")} ${t("err_wrong_pin_left", { n: e.attemptsLeft })}`
      : e instanceof PinDelayError ? t("err_pin_wait", { seconds: e.waitSeconds }) : "";
    if (text) showErrors(f, { "pin-current": text }); else say("pin-status", vaultMessage(e));
  }
}

const removeScreen = (app) => screen("remove_token", null,
  h("p", { class: "warning", role: "alert" }, t("remove_confirm")),
  btn("remove_yes", () => wipe().then(() => app.start(t("removed"))), "danger"),
  btn("cancel", () => app.show(settingsScreen)));
