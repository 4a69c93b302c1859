// ロック解除: PIN, or 指紋・顔認証 if on. The vault decides waits and wipes; we say them.
import { t, h, screen, form, btn, pinField, submit, showErrors, notice, say, raw, busy, vaultMessage, required } from "../dom.js";
import { unlock, status, WrongPinError, PinDelayError, VaultWipedError } from "../vault.js";
import { unlockWithBiometric } from "../biometric.js";
import { pinOrNull } from "./applock.js";

const waitText = (retryAt) => {
  const s = Math.ceil(((retryAt || 0) - Date.now()) / 1000);
  return s > 0 ? t("err_pin_wait", { seconds: s }) : "";
};
const leftText = (n) => (n <= 3 ? t("err_wrong_pin_left", { n }) : ""); // as the desktop app

export function unlockScreen(app, state) {
  const bio = btn("biometric", () => withBiometric(app));
  bio.hidden = true;
  status().then((s) => {
    bio.hidden = !s.biometric;
    const wait = waitText(s.retryAt);
    say("unlock-error", wait && `${wait} ${leftText(s.attemptsLeft)}`);
  }, () => {});
  return screen("unlock_title", state, h("p", {}, t("unlock_intro")),
    form((f) => tryPin(app, f), pinField("pin", "pin_enter"), notice("unlock-error"), submit("unlock_title"), bio));
}

async function tryPin(app, f) {
  const pin = pinOrNull(raw("pin"));
  if (showErrors(f, { pin: !raw("pin") ? required("pin_enter") : !pin && t("err_invalid_pin") })) return;
  busy(f, true);
  try {
    await app.opened(await unlock(pin));
  } catch (e) {
    busy(f, false);
    document.getElementById("pin").value = "";
    if (e instanceof VaultWipedError) return app.start(t("err_vault_wiped"));
    if (e instanceof WrongPinError) {
      showErrors(f, { pin: t("err_wrong_pin") });
      return say("unlock-error", `${leftText(e.attemptsLeft)} ${waitText(e.retryAt)}`);
    }
    say("unlock-error", e instanceof PinDelayError ? `${waitText(e.retryAt)} ${leftText(e.attemptsLeft)}` : vaultMessage(e));
  }
}

async function withBiometric(app) {
  try {
    await app.opened(await unlockWithBiometric());
  } catch (e) {
    if (e instanceof VaultWipedError) return app.start(t("err_vault_wiped"));
    say("unlock-error", t("biometric_unlock_failed"));
  }
}
