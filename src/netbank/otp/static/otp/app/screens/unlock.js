// ロック解除: the PIN (always), or the fingerprint/face where it was turned on.
// Wrong PINs are counted by the vault (delays from the 3rd, wipe at the 10th); this screen
// only says what the vault decided.
import { t } from "../messages.js";
import { h, pinField, showErrors, notice, say, busy, vaultMessage } from "../dom.js";
import { unlock, status, WrongPinError, PinDelayError, VaultWipedError } from "../vault.js";
import { unlockWithBiometric } from "../biometric.js";
import { pinOrNull } from "./applock.js";

export function unlockScreen(app, state) {
  const bio = h("button", { type: "button", class: "secondary", hidden: true, onclick: () => withBiometric(app) }, t("biometric"));
  const form = h("form", { novalidate: true, onsubmit: (e) => { e.preventDefault(); tryPin(app, form); } },
    pinField("pin", "pin_enter"),
    notice("unlock-error"),
    h("button", { type: "submit", class: "primary" }, t("unlock_button")),
    bio);
  status({ now: Date.now() }).then((s) => { bio.hidden = !s.biometric; explainWait(s.retryAt, s.attemptsLeft); }, () => {});
  return h("section", {},
    h("h1", {}, t("unlock_title")),
    state.notice && h("p", { class: "status", role: "status" }, state.notice),
    h("p", {}, t("unlock_intro")),
    form);
}

function explainWait(retryAt, attemptsLeft) {
  const wait = Math.ceil(((retryAt || 0) - Date.now()) / 1000);
  const parts = [];
  if (wait > 0) parts.push(t("err_pin_wait", { seconds: wait }));
  if (wait > 0 && attemptsLeft) parts.push(t("err_wrong_pin_left", { n: attemptsLeft }));
  say("unlock-error", parts.join(" "));
}

async function tryPin(app, form) {
  const typed = document.getElementById("pin").value;
  const pin = pinOrNull(typed);
  const problem = !typed ? t("err_required", { field: t("pin_enter") }) : !pin ? t("err_invalid_pin") : "";
  if (showErrors(form, { pin: problem })) return;
  busy(form, true);
  try {
    await app.opened(await unlock(pin, { now: Date.now() }));
  } catch (error) {
    busy(form, false);
    document.getElementById("pin").value = "";
    if (error instanceof VaultWipedError) return app.start(t("err_vault_wiped"));
    if (error instanceof WrongPinError) {
      showErrors(form, { pin: t("err_wrong_pin") });
      return say("unlock-error", t("err_wrong_pin_left", { n: error.attemptsLeft }) + waitText(error.retryAt));
    }
    if (error instanceof PinDelayError) return explainWait(error.retryAt, error.attemptsLeft);
    say("unlock-error", vaultMessage(error));
  }
}

function waitText(retryAt) {
  const wait = Math.ceil(((retryAt || 0) - Date.now()) / 1000);
  return wait > 0 ? ` ${t("err_pin_wait", { seconds: wait })}` : "";
}

async function withBiometric(app) {
  try {
    await app.opened(await unlockWithBiometric());
  } catch (error) {
    if (error instanceof VaultWipedError) return app.start(t("err_vault_wiped"));
    say("unlock-error", t("biometric_unlock_failed"));
  }
}
