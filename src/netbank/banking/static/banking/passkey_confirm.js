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
          credentialIds: spc.credentialIds.map(fromBase64url),
          challenge: fromBase64url(options.challenge),
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

/** Whether the browser offers Secure Payment Confirmation (see passkeys/passkey.js). */
async function spcAvailable() {
  if (typeof window.PaymentRequest !== "function") {
    return false;
  }
  try {
    if (typeof PaymentRequest.isSecurePaymentConfirmationAvailable === "function") {
      return await PaymentRequest.isSecurePaymentConfirmationAvailable();
    }
    const probe = new PaymentRequest(
      [
        {
          supportedMethods: "secure-payment-confirmation",
          data: {
            credentialIds: [new Uint8Array(16)],
            challenge: new Uint8Array(16),
            rpId: location.hostname,
            payeeName: "-",
            instrument: { displayName: "-", icon: new URL("/favicon.ico", location.href).href },
          },
        },
      ],
      { total: { label: "-", amount: { currency: "JPY", value: "1" } } },
    );
    return await probe.canMakePayment();
  } catch (error) {
    return false;
  }
}

/** JSON options → the binary form navigator.credentials.get takes. */
function requestOptions(options) {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
    return PublicKeyCredential.parseRequestOptionsFromJSON(options);
  }
  return {
    ...options,
    challenge: fromBase64url(options.challenge),
    allowCredentials: (options.allowCredentials || []).map((c) => ({
      ...c,
      id: fromBase64url(c.id),
    })),
  };
}

/** A PublicKeyCredential → the JSON the bank verifies (base64url fields). */
function credentialJSON(credential) {
  if (typeof credential.toJSON === "function") {
    return credential.toJSON();
  }
  const r = credential.response;
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: {
      clientDataJSON: toBase64url(r.clientDataJSON),
      authenticatorData: toBase64url(r.authenticatorData),
      signature: toBase64url(r.signature),
      userHandle: r.userHandle ? toBase64url(r.userHandle) : null,
    },
  };
}

/** @param {string} text base64url without padding */
function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
}

/** @param {ArrayBuffer} buffer */
function toBase64url(buffer) {
  const binary = String.fromCharCode(...new Uint8Array(buffer));
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
