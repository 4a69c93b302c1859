// アプリロックについて → 暗証番号の設定. The new token lives only in state until the vault holds it.
import { t, h, screen, form, btn, pinField, submit, showErrors, notice, say, raw, busy, vaultMessage, required } from "../dom.js";
import { createVault, normalisePin } from "../vault.js";
import { prfSupported, enrolBiometric } from "../biometric.js";

export const applockScreen = (app, state) => screen("applock_title", null,
  h("p", {}, t("applock_body")), h("p", {}, t("applock_body2")),
  btn("next", () => app.show(pinScreen, state), "primary"));

export function pinOrNull(text) {
  try { return normalisePin(text); } catch { return null; }
}

export function checkNewPin(firstId, againId) {
  const pin = pinOrNull(raw(firstId));
  if (!raw(firstId)) return { [firstId]: required("pin_enter") };
  if (!pin) return { [firstId]: t("err_invalid_pin") };
  return pin === pinOrNull(raw(againId)) ? {} : { [againId]: t("err_pin_mismatch") };
}

function pinScreen(app, state) {
  const bio = h("div", { class: "check", hidden: true },
    h("input", { type: "checkbox", id: "use-biometric" }), h("label", { for: "use-biometric" }, t("biometric_use")));
  prfSupported().then((ok) => { bio.hidden = !ok; });
  return screen("pin_title", null, form((f) => save(app, state, f),
    pinField("pin-new", "pin_new"), pinField("pin-again", "pin_again"), bio, notice("pin-error"), submit("pin_set_button")));
}

async function save(app, state, f) {
  if (showErrors(f, checkNewPin("pin-new", "pin-again"))) return;
  busy(f, true);
  let handle;
  try {
    handle = await createVault(state.token, pinOrNull(raw("pin-new")));
  } catch (e) {
    busy(f, false);
    return say("pin-error", vaultMessage(e));
  }
  let news = t("setup_done");
  if (document.getElementById("use-biometric").checked) {
    await enrolBiometric(handle).catch(() => { news += ` ${t("biometric_failed")}`; });
  }
  await app.opened(handle, `${news} ${t("setup_next")}`);
}
