// ワンタイムパスワード on the bank's clock, seconds left as a ring, drift warning.
import { t, h, screen, btn, notice, say } from "../dom.js";
import { bankNow, currentOffset, driftWarning } from "../clock.js";
import { totp } from "../oath.js";

const R = 44;
const C = 2 * Math.PI * R;

export const backToCode = (app) => btn("back", () => app.show(codeScreen));

export const codeNow = (token) => totp(token.seed, Math.floor(bankNow()), token);

// The other screens load when first opened.
const open = (app, file) => async () => app.show((await import(`./${file}.js`))[`${file}Screen`]);

export function codeScreen(app, state) {
  const token = app.token;
  const code = h("p", { id: "otp-code", class: "code", "aria-live": "polite" });
  const arc = h("svg:circle", { class: "ring-left", cx: 50, cy: 50, r: R, "stroke-dasharray": C.toFixed(2) });
  const secs = h("svg:text", { x: 50, y: 50, class: "ring-text", "text-anchor": "middle", "dominant-baseline": "central" });
  const ring = h("svg:svg", { id: "otp-ring", class: "ring", viewBox: "0 0 100 100", role: "img" },
    h("svg:circle", { class: "ring-track", cx: 50, cy: 50, r: R }), arc, secs);
  const warn = driftWarning(currentOffset());

  async function tick() {
    const left = Math.ceil(token.period - (bankNow() % token.period));
    const value = await codeNow(token);
    if (code.textContent !== value) code.textContent = value;
    secs.textContent = left;
    ring.setAttribute("aria-label", t("seconds_left", { seconds: left }));
    // An SVG attribute, not a style (CSP).
    arc.setAttribute("stroke-dashoffset", (C * (1 - left / token.period)).toFixed(2));
  }
  tick();
  const timer = setInterval(tick, 1000);
  app.stops.push(() => clearInterval(timer));

  return screen("app_title", state,
    warn && h("p", { id: "clock-warning", class: "warning", role: "alert" }, t(warn.key, warn)),
    h("div", { class: "code-box" }, code, ring),
    btn("copy", () => navigator.clipboard.writeText(code.textContent).then(() => "copied", () => "copy_failed").then((k) => say("copy-status", t(k))), "primary"),
    notice("copy-status", "status"),
    h("nav", { class: "menu" },
      btn("direct_login", open(app, "login"), ""), btn("sign_title", open(app, "sign"), ""),
      btn("settings", open(app, "settings"), ""), btn("lock_now", () => app.lock())));
}
