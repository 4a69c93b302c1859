// 設定: change the PIN, fingerprint/face unlock on or off, remove the token (after a
// warning), the app's version, the bank key's fingerprint and the leaflet's helpdesk.
import { t, language } from "../messages.js";
import { h, pinField, showErrors, notice, say, busy, vaultMessage } from "../dom.js";
import { bankNow } from "../clock.js";
import { changePin, wipe, status, clearPrf, WrongPinError, PinDelayError, VaultWipedError } from "../vault.js";
import { prfSupported, enrolBiometric } from "../biometric.js";
import { keysAt, fingerprint } from "../installconfig.js";
import { checkNewPin, pinOrNull } from "./applock.js";
import { codeScreen } from "./code.js";

export function settingsScreen(app, state) {
  const pinForm = h("form", { novalidate: true, onsubmit: (e) => { e.preventDefault(); newPin(app, pinForm); } },
    pinField("pin-current", "pin_current"),
    pinField("pin-new", "pin_new"),
    pinField("pin-again", "pin_again"),
    notice("pin-status", "status"),
    h("button", { type: "submit", class: "primary" }, t("change")));
  const bio = h("div", { id: "biometric-setting" });
  showBiometric(app, bio);
  const print = h("code", { id: "key-fingerprint" }, "—");
  keyFingerprint(app).then((text) => { print.textContent = text; }, () => {});
  return h("section", {},
    h("h1", {}, t("settings")),
    state.notice && h("p", { class: "status", role: "status" }, state.notice),
    h("h2", {}, t("change_pin")), pinForm,
    h("h2", {}, t("biometric")), bio,
    h("h2", {}, t("remove_token")),
    h("button", { type: "button", class: "danger", onclick: () => app.show(removeScreen) }, t("remove_token")),
    h("dl", { class: "facts" },
      h("dt", {}, t("app_version")), h("dd", { id: "app-version" }, app.data.version),
      h("dt", {}, t("fingerprint")), h("dd", {}, print)),
    helpdesk(app.data),
    h("button", { type: "button", class: "secondary", onclick: () => app.show(codeScreen) }, t("back")));
}

async function keyFingerprint(app) {
  const [key] = keysAt(app.config, Math.floor(bankNow()));
  return fingerprint(key.publicKey);
}

// The leaflet's two numbers: help with the service, and the emergency stop.
export function helpdesk(d) {
  const en = language() === "en";
  const hours = { weekday: en ? d.helpdeskWeekdayEn : d.helpdeskWeekday, holiday: en ? d.helpdeskHolidayEn : d.helpdeskHoliday, closed: en ? d.helpdeskClosedEn : d.helpdeskClosed };
  return h("section", { class: "helpdesk", "aria-labelledby": "helpdesk-title" },
    h("h2", { id: "helpdesk-title" }, t("helpdesk_title")),
    h("p", {}, t("helpdesk_general", { phone: d.helpdeskPhone, option: d.helpdeskGeneral })),
    h("p", {}, t("helpdesk_hours", hours)),
    h("p", {}, t("helpdesk_emergency", { phone: d.helpdeskPhone, option: d.helpdeskEmergency })),
    h("p", {}, h("a", { class: "button", href: `tel:${d.helpdeskPhone}` }, `☎ ${d.helpdeskPhone}`)));
}

async function showBiometric(app, box) {
  const [supported, enrolled] = await Promise.all([prfSupported().catch(() => false), status().then((s) => s.biometric, () => false)]);
  const toggle = async (on) => {
    say("bio-status", "");
    try {
      if (on) await enrolBiometric(app.handle); else await clearPrf();
      app.show(settingsScreen, { notice: t(on ? "biometric_enabled" : "biometric_disabled") });
    } catch {
      say("bio-status", t(on ? "biometric_failed" : "err_vault"));
    }
  };
  box.replaceChildren(
    !supported && !enrolled ? h("p", {}, t("biometric_unavailable"))
      : h("button", { type: "button", class: "secondary", onclick: () => toggle(!enrolled) }, t(enrolled ? "biometric_off" : "biometric_on")),
    notice("bio-status"));
}

async function newPin(app, form) {
  const current = document.getElementById("pin-current").value;
  const errors = current ? {} : { "pin-current": t("err_required", { field: t("pin_current") }) };
  Object.assign(errors, checkNewPin("pin-new", document.getElementById("pin-new").value, "pin-again", document.getElementById("pin-again").value));
  if (showErrors(form, errors)) return;
  busy(form, true);
  try {
    app.handle = await changePin(pinOrNull(current) || current, pinOrNull(document.getElementById("pin-new").value));
    app.show(settingsScreen, { notice: t("pin_changed") });
  } catch (error) {
    busy(form, false);
    if (error instanceof VaultWipedError) return app.start(t("err_vault_wiped"));
    for (const id of ["pin-current", "pin-new", "pin-again"]) document.getElementById(id).value = "";
    if (error instanceof WrongPinError) showErrors(form, { "pin-current": `${t("err_wrong_pin")} ${t("err_wrong_pin_left", { n: error.attemptsLeft })}` });
    else if (error instanceof PinDelayError) showErrors(form, { "pin-current": t("err_pin_wait", { seconds: Math.ceil(error.waitSeconds) }) });
    else say("pin-status", vaultMessage(error));
  }
}

function removeScreen(app) {
  return h("section", {},
    h("h1", {}, t("remove_token")),
    h("p", { class: "warning", role: "alert" }, t("remove_confirm")),
    h("button", { type: "button", class: "danger", onclick: async () => {
      await wipe();
      app.start(t("removed"));
    } }, t("remove_yes")),
    h("button", { type: "button", class: "secondary", onclick: () => app.show(settingsScreen) }, t("cancel")));
}
