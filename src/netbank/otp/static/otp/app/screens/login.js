// Directログイン (docs/smartphone.md): POST once (the OTP is single-use), then the ticket
// goes in a POST form (field t), never a URL, so no history or access log keeps it.
import { t, pick, h, screen, form, btn, field, submit, showErrors, notice, say, value, raw, busy, required, postJson } from "../dom.js";
import { codeNow, backToCode } from "./code.js";

const TICKET = /^[A-Za-z0-9_-]{43}$/;

export const loginScreen = (app) => screen("direct_login", null, h("p", {}, t("login_intro")),
  form((f) => login(app, f),
    field("login-id", "login_id", { autocomplete: "username" }),
    field("login-password", "login_password", { type: "password", autocomplete: "current-password" }),
    notice("login-error"), h("p", { id: "login-progress", role: "status" }),
    submit("login_button"), backToCode(app)));

// {postUrl, ticket} or {url}, only to the bank's own pages (as token_app/client.py), or null.
export function loginTarget(d, origin = location.origin) {
  const ours = (u) => { try { return new URL(u).origin === origin; } catch { return false; } };
  if (!d || typeof d.url !== "string" || !ours(d.url)) return null;
  if (d.post_url === undefined && d.ticket === undefined) return { url: d.url };
  if (typeof d.post_url !== "string" || !ours(d.post_url) || new URL(d.post_url).search) return null;
  return typeof d.ticket === "string" && TICKET.test(d.ticket) ? { postUrl: d.post_url, ticket: d.ticket } : null;
}

async function login(app, f) {
  const errors = {};
  for (const [id, key] of [["login-id", "login_id"], ["login-password", "login_password"]]) {
    if (!raw(id)) errors[id] = required(key);
  }
  say("login-error", "");
  if (showErrors(f, errors)) return;
  const fail = (text) => { busy(f, false); say("login-progress", ""); say("login-error", text); };
  const { serviceId, userId } = app.token;
  busy(f, true);
  say("login-progress", t("login_opening"));
  let r, d;
  try {
    r = await postJson("/api/v1/direct-login",
      { service_id: serviceId, user_id: userId, login_id: value("login-id"), password: raw("login-password"), otp: await codeNow(app.token) });
    d = await r.json().catch(() => null);
  } catch {
    return fail(t("err_network"));
  }
  if (!r.ok) {
    const e = d?.error || {};
    if (r.status === 429) return fail(t("err_throttled"));
    const id = e.code === "invalid_field" && { login_id: "login-id", password: "login-password" }[e.field];
    if (id) { fail(""); return showErrors(f, { [id]: pick(e.message, e.message_en) }); }
    return fail(pick(e.message, e.message_en) || t("err_login_failed"));
  }
  const to = loginTarget(d);
  if (!to) return fail(t("err_untrusted_login"));
  if (to.url) return location.assign(to.url);
  // Same origin, so CSP's form-action 'self' lets it go.
  const post = h("form", { method: "post", action: to.postUrl, hidden: true }, h("input", { type: "hidden", name: "t", value: to.ticket }));
  document.body.append(post);
  post.submit();
}
