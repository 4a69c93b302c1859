// Directログイン (docs/smartphone.md): ログインID + ログインパスワード here, the OTP added by
// the app, POST /api/v1/direct-login once (the OTP in it is single-use, so never resent),
// then the ticket goes to the bank in a POST form (field t), never in a URL, so it lands
// in no history and no access log. The browser then opens the bank's /top/.
import { t, pick } from "../messages.js";
import { h, field, showErrors, notice, say, value, busy } from "../dom.js";
import { bankNow } from "../clock.js";
import { totp } from "../oath.js";
import { codeScreen } from "./code.js";

export const DIRECT_LOGIN_PATH = "/api/v1/direct-login";
const TICKET = /^[A-Za-z0-9_-]{43}$/;

export function loginScreen(app) {
  const form = h("form", { novalidate: true, onsubmit: (e) => { e.preventDefault(); login(app, form); } },
    field("login-id", "login_id", { autocomplete: "username" }),
    field("login-password", "login_password", { type: "password", autocomplete: "current-password" }),
    notice("login-error"),
    h("p", { id: "login-progress", role: "status" }),
    h("button", { type: "submit", class: "primary" }, t("login_button")),
    h("button", { type: "button", class: "secondary", onclick: () => app.show(codeScreen) }, t("back")));
  return h("section", {}, h("h1", {}, t("direct_login")), h("p", {}, t("login_intro")), form);
}

// Where the browser goes with the bank's answer: {postUrl, ticket} or {url}; null when
// the answer points anywhere but this bank (the app opens only the bank's own pages).
export function loginTarget(data, origin = location.origin) {
  const same = (u) => { try { return new URL(u).origin === origin; } catch { return false; } };
  if (!data || typeof data.url !== "string" || !same(data.url)) return null;
  if (data.post_url === undefined && data.ticket === undefined) return { url: data.url };
  if (typeof data.post_url !== "string" || !same(data.post_url) || new URL(data.post_url).search) return null;
  if (typeof data.ticket !== "string" || !TICKET.test(data.ticket)) return null;
  return { postUrl: data.post_url, ticket: data.ticket };
}

async function login(app, form) {
  const loginId = value("login-id");
  const password = document.getElementById("login-password").value;
  const errors = {};
  if (!loginId) errors["login-id"] = t("err_required", { field: t("login_id") });
  if (!password) errors["login-password"] = t("err_required", { field: t("login_password") });
  say("login-error", "");
  if (showErrors(form, errors)) return;
  const token = app.token;
  busy(form, true);
  say("login-progress", t("login_opening"));
  let response, data;
  try {
    const otp = await totp(token.seed, Math.floor(bankNow()), { algorithm: token.algorithm, digits: token.digits, period: token.period });
    response = await fetch(DIRECT_LOGIN_PATH, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ service_id: token.serviceId, user_id: token.userId, login_id: loginId, password, otp }),
      credentials: "omit",
      cache: "no-store",
    });
    data = await response.json().catch(() => null);
  } catch {
    return failed(form, t("err_network"));
  }
  if (!response.ok) {
    const err = (data && data.error) || {};
    if (response.status === 429) return failed(form, t("err_throttled"));
    if (err.code === "invalid_field" && err.field) {
      const id = { login_id: "login-id", password: "login-password" }[err.field];
      if (id) { failed(form, ""); return showErrors(form, { [id]: pick(err.message, err.message_en) }); }
    }
    return failed(form, pick(err.message, err.message_en) || t("err_login_failed"));
  }
  const target = loginTarget(data);
  if (!target) return failed(form, t("err_untrusted_login"));
  if (target.url) return location.assign(target.url);
  // A form of the app's own page, posted to the bank (same origin: CSP form-action 'self').
  const post = h("form", { method: "post", action: target.postUrl, hidden: true },
    h("input", { type: "hidden", name: "t", value: target.ticket }));
  document.body.append(post);
  post.submit();
}

function failed(form, text) {
  busy(form, false);
  say("login-progress", "");
  say("login-error", text);
}
