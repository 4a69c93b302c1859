// WebAuthn's JSON <-> the browser's binary form, shared by the passkey pages
// (passkeys/passkey.js) and the banking 確認 pages (banking/passkey_confirm.js).
//
// The server speaks WebAuthn's JSON (py_webauthn's options_to_json), where bytes are
// base64url strings; the browser's API wants ArrayBuffers. One conversion for both, so
// what the bank verifies is built the same way wherever the customer uses a passkey.

export function toBuffer(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "===".slice((base64.length + 3) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

export function toBase64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 1) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function descriptors(list) {
  return (list || []).map((d) => ({ ...d, id: toBuffer(d.id) }));
}

export function creationOptions(json) {
  return {
    ...json,
    challenge: toBuffer(json.challenge),
    user: { ...json.user, id: toBuffer(json.user.id) },
    excludeCredentials: descriptors(json.excludeCredentials),
  };
}

export function requestOptions(json) {
  return {
    ...json,
    challenge: toBuffer(json.challenge),
    allowCredentials: descriptors(json.allowCredentials),
  };
}

// The browser's PublicKeyCredential as WebAuthn's JSON (what the server verifies).
export function credentialJSON(credential) {
  const r = credential.response;
  const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toBase64url(r.attestationObject);
    response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
  } else {
    response.authenticatorData = toBase64url(r.authenticatorData);
    response.signature = toBase64url(r.signature);
    response.userHandle = r.userHandle ? toBase64url(r.userHandle) : null;
  }
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment || null,
  };
}

// Whether this browser offers Secure Payment Confirmation. Browsers without
// isSecurePaymentConfirmationAvailable() are asked with a probe request's
// canMakePayment(); a browser that does not know the method refuses to build it.
export async function spcAvailable() {
  if (typeof window.PaymentRequest !== "function") return false;
  try {
    if (typeof PaymentRequest.isSecurePaymentConfirmationAvailable === "function") {
      return await PaymentRequest.isSecurePaymentConfirmationAvailable();
    }
    const probe = new PaymentRequest(
      [{
        supportedMethods: "secure-payment-confirmation",
        data: {
          credentialIds: [new Uint8Array(16)],
          challenge: new Uint8Array(16),
          rpId: location.hostname,
          payeeName: "-",
          instrument: { displayName: "-", icon: new URL("/favicon.ico", location.href).href },
        },
      }],
      { total: { label: "-", amount: { currency: "JPY", value: "1" } } },
    );
    return await probe.canMakePayment();
  } catch (error) {
    return false;
  }
}
