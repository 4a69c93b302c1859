"""JavaScript shared by the vault and biometric tests (prepended to run_js bodies)."""

from __future__ import annotations

PRELUDE = """
const v = await import(APP + "vault.js");
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const newToken = () => ({
  seed: crypto.getRandomValues(new Uint8Array(20)),
  signingKey: crypto.getRandomValues(new Uint8Array(32)),
  algorithm: "SHA1", digits: 6, period: 30, serviceId: "12345678", userId: "taro01",
  bankUrl: location.origin, keyFingerprint: "SHA256:abcd", serverTimeOffset: -2,
});
const secrets = (t) => ({ seed: hex(t.seed), signingKey: hex(t.signingKey) });
// What a refusal says (or "resolved" when there was none).
const outcome = async (promise) => {
  try { await promise; return "resolved"; } catch (e) {
    return { name: e.name, code: e.code ?? null, attemptsLeft: e.attemptsLeft ?? null,
             retryAt: e.retryAt ?? null, waitSeconds: e.waitSeconds ?? null };
  }
};
// The database as any script of this origin sees it (after vault.js has created it).
const idb = (mode, fn) => new Promise((resolve, reject) => {
  const open = indexedDB.open("netbank-app");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const tx = open.result.transaction("vault", mode);
    const req = fn(tx.objectStore("vault"));
    tx.oncomplete = () => { open.result.close(); resolve(req.result); };
    tx.onabort = () => reject(tx.error);
  };
});
const rawGet = (key) => idb("readonly", (s) => s.get(key));
const rawPut = (key, value) => idb("readwrite", (s) => s.put(value, key));
// A record as JSON and back (bytes as lists), to carry it to another browser profile.
const toWire = (x) => JSON.parse(JSON.stringify(x, (k, val) =>
  val instanceof Uint8Array ? { bytes: Array.from(val) } : val));
const fromWire = (x) => JSON.parse(JSON.stringify(x), (k, val) =>
  val && Array.isArray(val.bytes) ? new Uint8Array(val.bytes) : val);
const rawKeys = () => idb("readonly", (s) => s.getAllKeys());
"""
