// Passkeys in the browser: WebAuthn's create() and get() for the bank's pages.
//
// The server speaks WebAuthn's JSON (py_webauthn's options_to_json), where bytes are
// base64url strings; the browser's API wants ArrayBuffers. This module converts both
// ways, fetches options from the page's data-options-url (POST, CSRF header), and hands
// the browser's answer back in the page's own form (hidden field "credential"), so the
// server answers with an ordinary page (the conversion itself is webauthn-json.js).
// No inline script: the pages load this file.
//
// Login page ([data-passkey-login]): where the browser supports conditional mediation,
// a get() runs in the background so the browser offers the passkey in the ログインID
// field (autocomplete="username webauthn"); the 「パスキーでログイン」 button works
// everywhere WebAuthn does. Registration page ([data-passkey-register]): the button.
//
// Registration asks for the "payment" extension where the browser offers Secure
// Payment Confirmation, so that a 振込 can later be confirmed in the browser's own
// payment dialog (payee and amount shown by the browser, not by the page). The answer
// then says netbankPayment: true; the bank records it on the passkey as a hint of
// which passkeys to offer to that dialog (browsers report no result for the extension).

import { creationOptions, credentialJSON, requestOptions, spcAvailable } from "./webauthn-json.js";

async function fetchOptions(form) {
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const answer = await fetch(form.dataset.optionsUrl, {
    method: "POST",
    headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    credentials: "same-origin",
  });
  const json = await answer.json();
  if (!answer.ok) throw Object.assign(new Error(json.error || "options"), { shown: json.error });
  return json;
}

function say(form, text) {
  const message = form.querySelector("[data-passkey-message]") || document.querySelector("[data-passkey-message]");
  if (!message) return;
  // role="alert" only while it says something: an empty hidden alert is still an alert
  // to whoever looks for the page's alerts.
  message.textContent = text;
  message.hidden = !text;
  if (text) message.setAttribute("role", "alert");
  else message.removeAttribute("role");
}

function submit(form, credential, payment = false) {
  const json = credentialJSON(credential);
  if (payment) json.netbankPayment = true;
  form.querySelector("input[name=credential]").value = JSON.stringify(json);
  form.submit();
}

// create() with the payment extension where SPC is offered. A browser that refuses
// the extension for this authenticator (NotSupportedError, before any dialog) gets
// the plain request: the passkey still works, only not in the payment dialog.
async function create(options) {
  if (await spcAvailable()) {
    const extensions = { ...(options.extensions || {}), payment: { isPayment: true } };
    try {
      return { credential: await navigator.credentials.create({ publicKey: { ...options, extensions } }), payment: true };
    } catch (error) {
      if (!error || error.name !== "NotSupportedError") throw error;
    }
  }
  return { credential: await navigator.credentials.create({ publicKey: options }), payment: false };
}

// What to tell the customer about a refused browser call.
function messageFor(form, error) {
  if (error && error.shown) return error.shown;
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "AbortError") return form.dataset.msgCancelled;
  if (name === "InvalidStateError" && form.dataset.msgExists) return form.dataset.msgExists;
  if (name === "SecurityError" && form.dataset.msgOrigin) return form.dataset.msgOrigin;
  return form.dataset.msgFailed;
}

function setUpLogin(form) {
  const actions = form.querySelector("[data-passkey-actions]");
  const button = form.querySelector("[data-passkey-button]");
  let background = null; // the conditional request's AbortController

  async function conditional() {
    background = new AbortController();
    try {
      const options = requestOptions(await fetchOptions(form));
      const credential = await navigator.credentials.get({
        publicKey: options,
        mediation: "conditional",
        signal: background.signal,
      });
      if (credential) submit(form, credential);
    } catch (error) {
      // Aborted by the button, or refused here (a look-alike origin, a bank whose
      // configured origin is another): nothing to say unasked; the button says why.
    }
  }

  button.addEventListener("click", async () => {
    if (background) background.abort();
    background = null;
    say(form, "");
    button.disabled = true;
    try {
      const options = requestOptions(await fetchOptions(form));
      const credential = await navigator.credentials.get({ publicKey: options });
      submit(form, credential);
    } catch (error) {
      say(form, messageFor(form, error));
      button.disabled = false;
    }
  });
  actions.hidden = false;

  // After a refused passkey the page says why; asking again unasked would only repeat it.
  if (!document.getElementById("passkey-error") &&
      typeof PublicKeyCredential.isConditionalMediationAvailable === "function") {
    PublicKeyCredential.isConditionalMediationAvailable().then((available) => {
      if (available) conditional();
    }, () => {});
  }
}

function setUpRegister(form) {
  const button = form.querySelector("[data-passkey-create]");
  button.addEventListener("click", async () => {
    say(form, "");
    button.disabled = true;
    try {
      const options = creationOptions(await fetchOptions(form));
      const { credential, payment } = await create(options);
      submit(form, credential, payment);
    } catch (error) {
      say(form, messageFor(form, error));
      button.disabled = false;
    }
  });
}

function start() {
  const supported = typeof window.PublicKeyCredential === "function" && navigator.credentials;
  const login = document.querySelector("form[data-passkey-login]");
  if (login && supported) setUpLogin(login);
  const register = document.querySelector("form[data-passkey-register]");
  if (register) {
    if (supported) setUpRegister(register);
    else {
      say(register, register.dataset.msgUnsupported);
      register.querySelector("[data-passkey-create]").disabled = true;
    }
  }
}

start();
