// Confirms the operation on a banking 確認 page with the customer's passkey
// (banking/_passkey.html). The page carries the WebAuthn request options the bank made
// for exactly this operation: their challenge is derived from the operation's canonical
// form, so the assertion obtained here confirms this payee, amount, account paid from,
// date and draft, and nothing else. The bank rebuilds the operation from its own record
// when it checks the assertion; nothing this script sends can change what is confirmed.
//
// Pressing 「パスキーで確認して確定する」 asks the authenticator (fingerprint, face,
// screen lock) for an assertion, puts it into the form's hidden field and submits the
// form (with the 確認用パスワード typed on the page). Where the browser offers Secure
// Payment Confirmation and the bank marked the operation for it (data-spc-*), the
// browser's own dialog shows payee and amount; otherwise the page shows them.
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
      const credential = await assertion(options, box);
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
 * An assertion for the options: through Secure Payment Confirmation where it is offered
 * for this operation, else navigator.credentials.get.
 * @param {any} options PublicKeyCredentialRequestOptionsJSON
 * @param {HTMLElement} box
 * @returns {Promise<object>} the credential as JSON
 */
async function assertion(options, box) {
  if (box.dataset.spcPayee && (await spcAvailable())) {
    try {
      return await spcAssertion(options, box);
    } catch (error) {
      if (error && error.name === "NotAllowedError") {
        throw error; // the customer cancelled the browser's dialog
      }
      // This credential or device cannot do SPC: fall back to the plain request.
    }
  }
  const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
  return credentialJSON(credential);
}

async function spcAvailable() {
  return (
    typeof PaymentRequest !== "undefined" &&
    typeof PaymentRequest.isSecurePaymentConfirmationAvailable === "function" &&
    (await PaymentRequest.isSecurePaymentConfirmationAvailable())
  );
}

/** Secure Payment Confirmation: the browser shows payee and amount itself. */
async function spcAssertion(options, box) {
  const request = new PaymentRequest(
    [
      {
        supportedMethods: "secure-payment-confirmation",
        data: {
          rpId: options.rpId,
          challenge: fromBase64url(options.challenge),
          credentialIds: (options.allowCredentials || []).map((c) => fromBase64url(c.id)),
          payeeName: box.dataset.spcPayee,
          payeeOrigin: window.location.origin,
          instrument: {
            displayName: box.dataset.spcInstrument || box.dataset.spcPayee,
            icon: box.dataset.spcIcon,
          },
          timeout: options.timeout,
        },
      },
    ],
    {
      total: {
        label: box.dataset.spcLabel || "",
        amount: { currency: "JPY", value: box.dataset.spcAmount },
      },
    },
  );
  const response = await request.show();
  await response.complete("success");
  return credentialJSON(response.details);
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
