// アプリロックについて → 次へ → 暗証番号の設定 (and, where the phone can, 指紋・顔認証).
// The activated token lives only in this screen's state until the vault holds it.
import { t } from "../messages.js";
import { h, pinField, showErrors, notice, say, busy, vaultMessage } from "../dom.js";
import { createVault, normalisePin } from "../vault.js";
import { prfSupported, enrolBiometric } from "../biometric.js";

export function applockScreen(app, state) {
  return h("section", {},
    h("h1", {}, t("applock_title")),
    h("p", {}, t("applock_body")),
    h("p", {}, t("applock_body2")),
    h("button", { type: "button", class: "primary", onclick: () => app.show(pinScreen, state) }, t("next")));
}

// The vault's PIN rule (4–8 digits, full-width folded), or null.
export function pinOrNull(text) {
  try { return normalisePin(text); } catch { return null; }
}

// Errors of a new PIN typed twice ({inputId: text}).
export function checkNewPin(firstId, first, againId, again) {
  const pin = pinOrNull(first);
  if (!first) return { [firstId]: t("err_required", { field: t("pin_enter") }) };
  if (!pin) return { [firstId]: t("err_invalid_pin") };
  if (pin !== pinOrNull(again)) return { [againId]: t("err_pin_mismatch") };
  return {};
}

export function pinScreen(app, state) {
  const bio = h("div", { class: "check", hidden: true },
    h("input", { type: "checkbox", id: "use-biometric" }),
    h("label", { for: "use-biometric" }, t("biometric_use")));
  prfSupported().then((ok) => { bio.hidden = !ok; }, () => {});
  const form = h("form", { novalidate: true, onsubmit: (e) => { e.preventDefault(); save(app, state, form); } },
    pinField("pin-new", "pin_new"),
    pinField("pin-again", "pin_again"),
    bio,
    notice("pin-error"),
    h("button", { type: "submit", class: "primary" }, t("pin_set_button")));
  return h("section", {}, h("h1", {}, t("pin_title")), form);
}

async function save(app, state, form) {
  const first = document.getElementById("pin-new").value;
  const errors = checkNewPin("pin-new", first, "pin-again", document.getElementById("pin-again").value);
  if (showErrors(form, errors)) return;
  busy(form, true);
  const wantsBio = document.getElementById("use-biometric").checked;
  let handle;
  try {
    handle = await createVault(state.token, pinOrNull(first));
  } catch (error) {
    busy(form, false);
    return say("pin-error", vaultMessage(error));
  }
  let news = t("setup_done");
  if (wantsBio) {
    try {
      await enrolBiometric(handle);
    } catch {
      news += ` ${t("biometric_failed")}`;
    }
  }
  await app.opened(handle, `${news} ${t("setup_next")}`);
}
