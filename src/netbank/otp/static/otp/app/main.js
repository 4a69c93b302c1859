// The phone app's entry point: the router, the bank's details, the clock and the service
// worker. Screens live in screens/*.js; each is a function (app, state) → element.
import { t, language, setLanguage } from "./messages.js";
import * as clock from "./clock.js";
import { h } from "./dom.js";
import * as vault from "./vault.js";
import { parseInstallConfig } from "./installconfig.js";
import { setupScreen } from "./screens/setup.js";
import { unlockScreen } from "./screens/unlock.js";
import { codeScreen } from "./screens/code.js";

const root = document.getElementById("app");
const data = document.body.dataset;
// The app locks itself when it has been in the background this long.
const LOCK_AFTER_HIDDEN_MS = 120_000;

export const app = {
  data,
  config: null, // the bank's install configuration (parsed), or null when it cannot be read
  configError: null,
  handle: null, // the unlocked vault (vault.js), in memory only
  token: null, // its token
  installPrompt: null, // Android's deferred "install app" prompt
  current: null,
  stops: [], // what the shown screen runs (timers) and must stop when it goes

  // Shows a screen. `state` survives a language switch (the screen re-renders with it).
  show(screen, state = {}) {
    this.leave();
    this.current = { screen, state };
    const view = screen(this, state);
    root.replaceChildren(header(this), view);
    const first = view.querySelector("h1");
    if (first) { first.tabIndex = -1; first.focus(); }
    window.scrollTo(0, 0);
  },

  leave() {
    for (const stop of this.stops.splice(0)) stop();
  },

  // Re-draws the current screen in the new language, keeping what was typed.
  rerender() {
    const typed = [...root.querySelectorAll("input")].map((i) => [i.id, i.type === "checkbox" ? i.checked : i.value]);
    this.show(this.current.screen, this.current.state);
    for (const [id, v] of typed) {
      const input = document.getElementById(id);
      if (input && input.type === "checkbox") input.checked = v; else if (input) input.value = v;
    }
  },

  // The screen to open on: set-up when there is no token, the lock screen otherwise.
  async start(notice) {
    this.token = this.handle = null;
    let exists = false;
    try {
      exists = await vault.vaultExists();
    } catch { /* IndexedDB unavailable (private mode): behaves as no token */ }
    this.show(exists ? unlockScreen : setupScreen, { notice });
  },

  // After the unlock or the set-up: the measured clock wins over the stored one.
  async opened(handle, notice) {
    this.handle = handle;
    const token = (this.token = handle.token);
    if (clock.wasMeasured()) {
      try { await vault.updateOffset(clock.currentOffset()); } catch { /* kept in memory only */ }
    } else {
      clock.setOffset(token.serverTimeOffset || 0);
    }
    this.show(codeScreen, { notice });
  },

  lock() {
    this.start();
  },

  bankName() {
    return language() === "en" ? data.bankNameEn || data.bankName : data.bankName;
  },
};

function header(app) {
  const other = language() === "en" ? "ja" : "en";
  return h("header", { class: "bar" },
    h("span", { class: "brand" }, app.bankName()),
    app.installPrompt && h("button", { type: "button", class: "link", onclick: install }, t("install_app")),
    h("button", {
      type: "button", class: "link", lang: other,
      onclick: () => { setLanguage(other); app.rerender(); },
    }, t("lang_switch")));
}

async function install() {
  const prompt = app.installPrompt;
  app.installPrompt = null;
  app.rerender();
  if (prompt) await prompt.prompt();
}

// The install configuration: from the network when online (that fetch also measures the
// bank's clock), else the copy the service worker keeps.
async function loadConfig() {
  let json;
  try {
    if (!navigator.onLine) throw new Error("offline");
    const { response } = await clock.measure(data.config);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    json = await response.text();
  } catch {
    try {
      const response = await fetch(data.config);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      json = await response.text();
    } catch (error) {
      app.configError = error;
      return;
    }
  }
  try {
    app.config = parseInstallConfig(json);
  } catch (error) {
    app.configError = error;
  }
}

function registerWorker() {
  // Offline the installed worker keeps serving; its update check waits for the network.
  if (!("serviceWorker" in navigator) || !navigator.onLine) return;
  // The worker only makes the app open offline; the app works without it.
  navigator.serviceWorker.register(data.sw, { scope: data.scope }).catch(() => {});
}

window.addEventListener("beforeinstallprompt", (event) => {
  // Offered from the app's own button rather than at a moment the customer did not choose.
  event.preventDefault();
  app.installPrompt = event;
  if (app.current) app.rerender();
});

let hiddenAt = 0;
document.addEventListener("visibilitychange", () => {
  if (document.hidden) hiddenAt = Date.now();
  else if (app.token && Date.now() - hiddenAt > LOCK_AFTER_HIDDEN_MS) app.lock();
});

setLanguage(language());
registerWorker();
await loadConfig();
await app.start();
