// The app's entry: router, clock, service worker. A screen is (app, state) → element.
import { t, language, setLanguage } from "./messages.js";
import * as clock from "./clock.js";
import { h, btn } from "./dom.js";
import * as vault from "./vault.js";
import { parseInstallConfig } from "./installconfig.js";
import { unlockScreen } from "./screens/unlock.js";
import { codeScreen } from "./screens/code.js";

const root = document.getElementById("app");
const data = document.body.dataset;
const LOCK_AFTER_HIDDEN_MS = 120_000;

const app = {
  data,
  config: null, // install.json; null if unreadable
  handle: null, // the unlocked vault, in memory only
  token: null,
  ready: null, // install.json read (or not)
  installPrompt: null,
  current: null,
  stops: [], // the shown screen's timers

  show(screen, state = {}) {
    for (const stop of this.stops.splice(0)) stop();
    this.current = { screen, state };
    const view = screen(this, state);
    root.replaceChildren(header(), view);
    const h1 = view.querySelector("h1");
    if (h1) { h1.tabIndex = -1; h1.focus(); }
    scrollTo(0, 0);
  },

  // Same screen, other language, typed values kept.
  rerender() {
    const typed = [...root.querySelectorAll("input")].map((i) => [i.id, i.value, i.checked]);
    this.show(this.current.screen, this.current.state);
    for (const [id, v, on] of typed) {
      const i = document.getElementById(id);
      if (i) { i.value = v; i.checked = on; }
    }
  },

  async start(notice) {
    this.token = this.handle = null;
    // No IndexedDB (private mode): no token.
    const exists = await vault.vaultExists().catch(() => false);
    this.show(exists ? unlockScreen : (await import("./screens/setup.js")).setupScreen, { notice });
  },

  // A clock measured now wins over the stored offset.
  async opened(handle, notice) {
    this.handle = handle;
    this.token = handle.token;
    if (clock.wasMeasured()) await vault.updateOffset(clock.currentOffset()).catch(() => {});
    else clock.setOffset(handle.token.serverTimeOffset || 0);
    this.show(codeScreen, { notice });
  },

  lock() { this.start(); },

  bankName: () => (language() === "en" && data.bankNameEn) || data.bankName,
};

function header() {
  const other = language() === "en" ? "ja" : "en";
  return h("header", { class: "bar" },
    h("span", { class: "brand" }, app.bankName()),
    app.installPrompt && btn("install_app", install, "link"),
    h("button", { type: "button", class: "link", lang: other, onclick: () => { setLanguage(other); app.rerender(); } }, t("lang_switch")));
}

function install() {
  const prompt = app.installPrompt;
  app.installPrompt = null;
  app.rerender();
  prompt?.prompt();
}

// install.json from the network (that fetch measures the clock), else the worker's copy.
async function loadConfig() {
  const text = async (response) => {
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.text();
  };
  let json;
  try {
    if (!navigator.onLine) throw new Error("offline");
    json = await text((await clock.measure(data.config)).response);
  } catch {
    json = await fetch(data.config).then(text).catch(() => null);
  }
  try { app.config = parseInstallConfig(json); } catch { /* 初期設定 says so */ }
}

// Offline, the installed worker keeps serving.
if ("serviceWorker" in navigator && navigator.onLine) {
  navigator.serviceWorker.register(data.sw, { scope: data.scope }).catch(() => {});
}

// Android: offered from our own button, when the customer chooses.
addEventListener("beforeinstallprompt", (event) => {
  event.preventDefault();
  app.installPrompt = event;
  if (app.current) app.rerender();
});

// Kept for offline use; the warning redrawn.
async function clockKnown() {
  if (!app.token || !clock.wasMeasured()) return;
  await vault.updateOffset(clock.currentOffset()).catch(() => {});
  if (app.current.screen === codeScreen) app.rerender();
}

async function remeasure() {
  if (navigator.onLine && (await clock.measure(data.config).then(() => true, () => false))) await clockKnown();
}
// A network just back often needs a moment.
addEventListener("online", () => setTimeout(remeasure, 1500));

let hiddenAt = 0;
document.addEventListener("visibilitychange", () => {
  if (document.hidden) hiddenAt = Date.now();
  else if (app.token && Date.now() - hiddenAt > LOCK_AFTER_HIDDEN_MS) app.lock();
  else remeasure();
});

setLanguage(language());
// The lock screen does not wait for the network.
app.ready = loadConfig().then(clockKnown);
await app.start();
