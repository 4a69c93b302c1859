// ワンタイムパスワード: the code on the bank's clock, the seconds left as a ring, a copy
// button, and a warning when the phone's clock is more than 15 s off the bank's.
import { t } from "../messages.js";
import { h, notice, say } from "../dom.js";
import { bankNow, currentOffset, driftWarning } from "../clock.js";
import { totp } from "../oath.js";

// The other screens load when first opened: the code shows without waiting for them.
const open = (app, file, name) => async () => app.show((await import(`./${file}.js`))[name]);

const RADIUS = 44;
const CIRCUMFERENCE = 2 * Math.PI * RADIUS;

export function codeScreen(app, state) {
  const token = app.token;
  const code = h("p", { id: "otp-code", class: "code", "aria-live": "polite" });
  const arc = h("svg:circle", { class: "ring-left", cx: 50, cy: 50, r: RADIUS, "stroke-dasharray": CIRCUMFERENCE.toFixed(2) });
  const seconds = h("svg:text", { x: 50, y: 50, class: "ring-text", "text-anchor": "middle", "dominant-baseline": "central" });
  const ring = h("svg:svg", { id: "otp-ring", class: "ring", viewBox: "0 0 100 100", role: "img" },
    h("svg:circle", { class: "ring-track", cx: 50, cy: 50, r: RADIUS }), arc, seconds);
  const warning = driftWarning(currentOffset());
  let shown = "";

  async function tick() {
    if (!app.token) return;
    const now = bankNow();
    const left = Math.max(1, Math.ceil(token.period - (now % token.period)));
    const value = await totp(token.seed, Math.floor(now), { algorithm: token.algorithm, digits: token.digits, period: token.period });
    if (value !== shown) { code.textContent = value; shown = value; }
    seconds.textContent = String(left);
    ring.setAttribute("aria-label", t("seconds_left", { seconds: left }));
    // The arc is the share of the period still left (SVG attribute, not a style: CSP).
    arc.setAttribute("stroke-dashoffset", (CIRCUMFERENCE * (1 - left / token.period)).toFixed(2));
  }
  tick();
  const timer = setInterval(tick, 1000);
  app.stops.push(() => clearInterval(timer));

  return h("section", { class: "code-screen" },
    h("h1", {}, t("app_title")),
    state.notice && h("p", { class: "status", role: "status" }, state.notice),
    warning && h("p", { id: "clock-warning", class: "warning", role: "alert" }, t(warning.key, { seconds: warning.seconds })),
    h("div", { class: "code-box" }, code, ring),
    h("button", { type: "button", class: "primary", onclick: () => copy(shown) }, t("copy")),
    notice("copy-status", "status"),
    h("nav", { class: "menu" },
      h("button", { type: "button", onclick: open(app, "login", "loginScreen") }, t("direct_login")),
      h("button", { type: "button", onclick: open(app, "sign", "signScreen") }, t("sign_title")),
      h("button", { type: "button", onclick: open(app, "settings", "settingsScreen") }, t("settings")),
      h("button", { type: "button", class: "secondary", onclick: () => app.lock() }, t("lock_now"))));
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    say("copy-status", t("copied"));
  } catch {
    say("copy-status", t("copy_failed"));
  }
}
