// Confirms the operation on a banking 確認 page with the customer's passkey
// (banking/_passkey.html). The page carries the WebAuthn request options the bank made
// for exactly this operation: their challenge is derived from the operation's canonical
// form, so the assertion obtained here confirms this payee, amount, account paid from,
// date and draft, and nothing else. The bank rebuilds the operation from its own record
// when it checks the assertion; nothing this script sends can change what is confirmed.
//
// Pressing 「パスキーで確認して確定する」 asks the authenticator (fingerprint, face,
// screen lock) for an assertion, puts it into the form's hidden field and submits the
// form (with the 確認用パスワード typed on the page). The page shows payee and amount;
// for a 振込, where the browser offers Secure Payment Confirmation, so does the browser.
// No inline script, no globals; texts come translated from the page (data-msg-*).

// The JSON <-> ArrayBuffer conversion and the SPC probe are the passkey pages' own
// (one conversion for everything the bank verifies).
import {
  credentialJSON,
  requestOptions,
  spcAvailable,
  toBuffer,
} from "../passkeys/webauthn-json.js";

const box = document.querySelector("[data-passkey-options]");
if (box) {
  setUp(box);
}

/** @param {HTMLElement} box */
function setUp(box) {
  const form = box.closest("form");
  const field = form.querySelector('input[name="passkey_response"]');
  const status = box.querySelector("[data-passkey-status]");
  const button = form.querySelector("[data-passkey-submit]");
  // A page shown again after a refusal must never resend the old assertion.
  field.value = "";
  let busy = false;
  form.addEventListener("submit", async (event) => {
    if (event.submitter !== button || field.value) {
      return; // 戻る, the switch to the 取引認証番号, or the assertion is in: post as is
    }
    event.preventDefault();
    if (busy) {
      return;
    }
    busy = true;
    status.textContent = box.dataset.msgWait || "";
    try {
      const options = JSON.parse(box.dataset.passkeyOptions);
      const credential = await assertion(options);
      field.value = JSON.stringify(credential);
      form.requestSubmit(button);
    } catch (error) {
      // Cancelled, timed out, or no passkey of this bank on the device: say so and
      // leave the form as it is (the customer may try again; nothing was sent).
      status.textContent =
        error && error.name === "NotAllowedError"
          ? box.dataset.msgCancelled || ""
          : box.dataset.msgFailed || "";
    } finally {
      busy = false;
    }
  });
}

/**
 * An assertion for the options.
 *
 * For a 振込 the bank adds `spc` (payee, the payee's account in words, the amount, the
 * customer's passkeys registered for payment). Where the browser offers Secure Payment
 * Confirmation, its own dialog shows them and the signed client data ("payment.get")
 * carries them, so the bank can check that the browser showed what it executes. Where it
 * does not (or the browser says it cannot, NotSupportedError, before any dialog), the
 * plain navigator.credentials.get: the page shows the operation and the challenge binds it.
 * @param {any} options PublicKeyCredentialRequestOptionsJSON (+ spc)
 * @returns {Promise<object>} the credential as JSON
 */
async function assertion(options) {
  if (options.spc && (await spcAvailable())) {
    try {
      return await paymentAssertion(options);
    } catch (error) {
      if (!error || error.name !== "NotSupportedError") {
        throw error;
      }
    }
  }
  const { spc, ...publicKey } = options;
  const credential = await navigator.credentials.get({ publicKey: requestOptions(publicKey) });
  return credentialJSON(credential);
}

/** Secure Payment Confirmation with the same challenge: the browser's dialog. */
async function paymentAssertion(options) {
  const spc = options.spc;
  const request = new PaymentRequest(
    [
      {
        supportedMethods: "secure-payment-confirmation",
        data: {
          credentialIds: spc.credentialIds.map(toBuffer),
          challenge: toBuffer(options.challenge),
          rpId: options.rpId,
          payeeName: spc.payeeName,
          // The bank's icon, from its own origin.
          instrument: {
            displayName: spc.instrument.displayName,
            icon: new URL(spc.instrument.icon, location.href).href,
          },
          timeout: options.timeout,
        },
      },
    ],
    { total: { label: spc.label, amount: spc.total } },
  );
  const response = await request.show();
  await response.complete("success");
  return credentialJSON(response.details);
}
