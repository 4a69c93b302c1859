// The token behind the app lock (IndexedDB; times in ms), with token_app/vault.py's PIN rules.
// A random key CK encrypts the secrets and is wrapped under PBKDF2(PIN) and, once enrolled,
// HKDF(PRF output); all is sealed again under a non-extractable device key, so a copy
// elsewhere cannot be opened.

import { concat, errorClass, halfWidth, hex, random, utf8 } from "./bytes.js";

const STORE = "vault";
const RECORD = "token";
const DEVICE_KEY = "deviceKey";
const FORMAT = 1;
const PBKDF2_ITERATIONS = 600_000;
const MAX_PIN_FAILURES = 10;
const FREE_FAILURES = 2;
const WARN_WHEN_ATTEMPTS_LEFT = 3;
const SETTINGS = ["serviceId", "userId", "bankUrl", "keyFingerprint", "algorithm", "digits", "period"];
const subtle = globalThis.crypto.subtle;

// `code`: the Python app's stable names, which the screens' messages use.
export const VaultError = errorClass("VaultError", ["code"]);
export class WrongPinError extends VaultError {
  constructor(attemptsLeft, retryAt) {
    super(`wrong PIN; ${attemptsLeft} attempts left`, "wrong_pin");
    Object.assign(this, { attemptsLeft, retryAt }); // retryAt null: try again at once
  }
}
export class PinDelayError extends VaultError {
  constructor(retryAt, waitSeconds, attemptsLeft) {
    super(`wait ${waitSeconds} s before the next PIN`, "pin_delay");
    Object.assign(this, { retryAt, waitSeconds, attemptsLeft });
  }
}
export class VaultWipedError extends VaultError {
  constructor() { super("too many wrong PINs: the token was erased", "vault_wiped"); }
}
// A biometric unlock that did not happen: never a PIN failure.
export const BiometricError = errorClass("BiometricError", ["code"], VaultError);

const notFound = () => new VaultError("no token on this device", "vault_not_found");
const changed = () => new VaultError("the vault was changed in another window", "vault_changed");
const tampered = (why) => new VaultError(`the vault is not one this app wrote here: ${why}`, "vault_tampered");
const invalidToken = (field) => new VaultError(`the token's ${field} is missing or malformed`, "invalid_token");
const storageFailed = (why) => new VaultError(`the browser's storage failed: ${why}`, "vault_io");
const notEnrolled = () => new BiometricError("no biometric unlock is set up", "biometric_not_enrolled");

// 4–8 digits: the Python app's longer rules are for a vault without a keyring, and the
// phone's sandbox guards the device key like one.
export function normalisePin(pin) {
  const ascii = typeof pin === "string" ? halfWidth(pin) : "";
  if (!/^[0-9]{4,8}$/.test(ascii)) throw new VaultError("the PIN must be 4 to 8 digits", "invalid_pin");
  return ascii;
}

const failureDelayMs = (failures) => (failures <= FREE_FAILURES ? 0 : 15_000 * 2 ** (failures - FREE_FAILURES - 1));

function lockStatus(rec, now) {
  const failures = rec.failures;
  const until = failures && rec.lastFailureAt != null ? rec.lastFailureAt + failureDelayMs(failures) : 0;
  const retryAt = now < until ? until : null;
  const attemptsLeft = Math.max(0, MAX_PIN_FAILURES - failures);
  return {
    failures, attemptsLeft, retryAt,
    waitSeconds: retryAt === null ? 0 : Math.ceil((retryAt - now) / 1000),
    warn: attemptsLeft > 0 && attemptsLeft <= WARN_WHEN_ATTEMPTS_LEFT,
  };
}

let opening = null;
function database() {
  opening ??= new Promise((resolve, reject) => {
    const req = indexedDB.open("netbank-app", 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE); // version 1: from no database
    req.onsuccess = () => {
      const db = req.result;
      // Closed by an upgrade elsewhere or cleared storage: open anew next time.
      db.onversionchange = () => { db.close(); opening = null; };
      db.onclose = () => { opening = null; };
      resolve(db);
    };
    req.onerror = () => { opening = null; reject(storageFailed(req.error?.message)); };
  });
  return opening;
}

// `body(store, settle)` issues requests from callbacks only (an await would let the
// transaction commit early); the settled outcome is delivered once committed.
async function transact(mode, body, options) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode, options);
    let value, error;
    tx.oncomplete = () => (error ? reject(error) : resolve(value));
    tx.onabort = () => reject(error ?? storageFailed(tx.error?.message ?? "aborted"));
    body(tx.objectStore(STORE), (v, e) => { value = v; error = e; });
  });
}

function readAll() {
  return transact("readonly", (store, settle) => {
    const rec = store.get(RECORD), key = store.get(DEVICE_KEY);
    key.onsuccess = () => settle({ rec: rec.result, deviceKey: key.result });
  });
}

// `change(rec, store)` edits the record or returns an error (then nothing is saved);
// `id` guards against a record replaced meanwhile.
function update(id, change, options) {
  return transact("readwrite", (store, settle) => {
    const req = store.get(RECORD);
    req.onsuccess = () => {
      const rec = req.result;
      if (!rec) return settle(undefined, notFound());
      if (id && rec.id !== id) return settle(undefined, changed());
      const error = change(rec, store);
      if (error === undefined) store.put(rec, RECORD);
      settle(rec, error);
    };
  }, options);
}

function wipeIn(store) {
  store.delete(RECORD);
  store.delete(DEVICE_KEY);
  return new VaultWipedError();
}
const wipeNow = (id) => update(id, (r, store) => wipeIn(store));

const bytes = (b) => new Uint8Array(b);
const label = (...parts) => utf8(JSON.stringify(["netbank-app vault v1", ...parts]));
const aesKey = (raw) => subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);

async function gcmEncrypt(key, plain, aad) {
  const iv = random(12);
  return { iv, data: bytes(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, key, plain)) };
}
async function gcmDecrypt(key, iv, data, aad) {
  return bytes(await subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, key, data));
}

// AES-GCM under `key`, then sealed under the device key: {iv, data: outer IV ‖ outer ciphertext}.
async function wrap(deviceKey, rec, purpose, key, plain, aad) {
  const inner = await gcmEncrypt(key, plain, aad);
  const outer = await gcmEncrypt(deviceKey, inner.data, label("seal", rec.id, purpose));
  return { iv: inner.iv, data: concat(outer.iv, outer.data) };
}
async function unseal(deviceKey, id, purpose, sealed) {
  if (!(sealed instanceof Uint8Array) || sealed.length < 28) throw tampered(purpose);
  return gcmDecrypt(deviceKey, sealed.subarray(0, 12), sealed.subarray(12), label("seal", id, purpose)).catch(() => {
    throw tampered(`${purpose} is sealed under another device key`);
  });
}

async function derivedAesKey(secret, params) {
  const base = await subtle.importKey("raw", secret, params.name, false, ["deriveKey"]);
  return subtle.deriveKey({ hash: "SHA-256", ...params }, base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}
const pinKey = (pin, salt, iterations) => derivedAesKey(utf8(pin), { name: "PBKDF2", salt, iterations });
const prfKey = (prfOutput, id) =>
  derivedAesKey(prfOutput, { name: "HKDF", salt: utf8(id), info: utf8("netbank-app vault prf key v1") });

// The settings as AAD: an edited one makes the secrets unreadable.
const secretAad = (r) => label("secret", r.id, ...SETTINGS.map((f) => r[f]));
const pinAad = (r) => label("ck-pin", r.id, r.kdf.iterations);
const prfAad = (r, credentialId) => label("ck-prf", r.id, Array.from(credentialId));

async function wrapUnderPin(rec, deviceKey, ck, pin) {
  const salt = random(16);
  return { salt, ...(await wrap(deviceKey, rec, "pin", await pinKey(pin, salt, rec.kdf.iterations), ck, pinAad(rec))) };
}

function checkPrfOutput(prfOutput) {
  if (!(prfOutput instanceof Uint8Array) || prfOutput.length < 32) throw new BiometricError("no PRF output", "biometric_refused");
}

// Each handle's CK (for setPrf), out of the handle's reach and never stored.
const contentKeys = new WeakMap();

function checkToken(t) {
  const ok = (field, good) => { if (!good) throw invalidToken(field); };
  ok("token", t && typeof t === "object");
  ok("seed", t.seed instanceof Uint8Array && t.seed.length > 0 && t.seed.length < 256);
  ok("signingKey", t.signingKey instanceof Uint8Array && t.signingKey.length > 0);
  ok("algorithm", ["SHA1", "SHA256", "SHA512"].includes(t.algorithm));
  ok("digits", Number.isInteger(t.digits) && t.digits >= 6 && t.digits <= 10);
  ok("period", Number.isInteger(t.period) && t.period > 0);
  for (const f of ["serviceId", "userId"]) ok(f, typeof t[f] === "string" && t[f] !== "");
  for (const f of ["bankUrl", "keyFingerprint"]) ok(f, t[f] === undefined || typeof t[f] === "string");
  ok("serverTimeOffset", t.serverTimeOffset === undefined || Number.isFinite(t.serverTimeOffset));
}

async function openSecret(rec, deviceKey, ck) {
  const sealed = await unseal(deviceKey, rec.id, "secret", rec.secret.data);
  const plain = await gcmDecrypt(await aesKey(ck), rec.secret.iv, sealed, secretAad(rec)).catch(() => {
    throw tampered("the token's settings were changed");
  });
  const n = plain[0];
  const token = { seed: plain.slice(1, 1 + n), signingKey: plain.slice(1 + n), serverTimeOffset: rec.serverTimeOffset };
  for (const f of SETTINGS) token[f] = rec[f];
  const handle = { id: rec.id, token };
  contentKeys.set(handle, ck);
  return handle;
}

// Checked before any PIN is tried: an altered vault never counts as a wrong PIN. A tenth
// failure found counted (the app killed mid-try) wipes, whatever the way in.
async function loadChecked() {
  const { rec, deviceKey } = await readAll();
  if (!rec) throw notFound();
  if (rec.format !== FORMAT) throw tampered(`format ${rec.format}`);
  if (!(rec.secret && rec.wrapped?.pin)) throw tampered("parts missing");
  if (!deviceKey) throw new VaultError("no device key for the vault in this browser (a copy?)", "device_secret_missing");
  const it = rec.kdf?.iterations;
  if (!Number.isInteger(it) || it < PBKDF2_ITERATIONS || it > 100 * PBKDF2_ITERATIONS) throw tampered("PBKDF2 iterations");
  if (rec.failures >= MAX_PIN_FAILURES) await wipeNow(rec.id);
  return { rec, deviceKey };
}

async function rewrap(handle, name, wrap) {
  const { rec, deviceKey } = await loadChecked();
  if (rec.id !== handle.id) throw changed();
  const part = await wrap(rec, deviceKey, contentKeys.get(handle));
  await update(rec.id, (r) => { r.wrapped[name] = part; r.generation += 1; });
}

export async function vaultExists() {
  return Boolean((await readAll()).rec);
}

export async function status({ now = Date.now() } = {}) {
  const { rec } = await readAll();
  if (!rec) throw notFound();
  const out = lockStatus(rec, now);
  for (const f of [...SETTINGS, "serverTimeOffset", "createdAt"]) out[f] = rec[f];
  out.biometric = Boolean(rec.wrapped?.prf);
  return out;
}

export async function createVault(token, pin, { now = Date.now() } = {}) {
  pin = normalisePin(pin);
  checkToken(token);
  const exists = () => new VaultError("a token already exists on this device", "vault_exists");
  if (await vaultExists()) throw exists();
  const deviceKey = await subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const ck = random(32);
  const rec = {
    format: FORMAT, id: hex(random(16)), generation: 0, ...Object.fromEntries(SETTINGS.map((f) => [f, token[f] ?? ""])),
    serverTimeOffset: token.serverTimeOffset ?? 0, createdAt: now, failures: 0, lastFailureAt: null,
    kdf: { name: "PBKDF2", hash: "SHA-256", iterations: PBKDF2_ITERATIONS },
  };
  const plain = concat([token.seed.length], token.seed, token.signingKey);
  rec.secret = await wrap(deviceKey, rec, "secret", await aesKey(ck), plain, secretAad(rec));
  rec.wrapped = { pin: await wrapUnderPin(rec, deviceKey, ck, pin) };
  // Best effort against eviction; not awaited (some browsers ask the user).
  navigator.storage?.persist?.().catch(() => {});
  await transact("readwrite", (store, settle) => {
    // add() fails on an existing record, aborting the device key's put too.
    store.add(rec, RECORD).onerror = () => settle(undefined, exists());
    store.put(deviceKey, DEVICE_KEY);
  });
  return openSecret(rec, deviceKey, ck);
}

export async function unlock(pin, { now = Date.now() } = {}) {
  pin = normalisePin(pin);
  for (;;) {
    const { rec, deviceKey } = await loadChecked();
    const pinPart = await unseal(deviceKey, rec.id, "pin", rec.wrapped.pin.data);
    // Counted durably before the key derivation, in one transaction with the checks, so
    // two windows cannot both slip through; a try refused as too soon is no try.
    let counted;
    try {
      counted = await update(rec.id, (r, store) => {
        if (r.generation !== rec.generation) return changed();
        if (r.failures >= MAX_PIN_FAILURES) return wipeIn(store);
        const st = lockStatus(r, now);
        if (st.retryAt !== null) return new PinDelayError(st.retryAt, st.waitSeconds, st.attemptsLeft);
        r.failures += 1;
        r.lastFailureAt = now;
      }, { durability: "strict" });
    } catch (e) {
      if (e.code === "vault_changed") continue; // changed in another window: read it again
      throw e;
    }
    let ck;
    try {
      ck = await gcmDecrypt(await pinKey(pin, rec.wrapped.pin.salt, rec.kdf.iterations), rec.wrapped.pin.iv, pinPart, pinAad(rec));
    } catch {
      if (counted.failures >= MAX_PIN_FAILURES) await wipeNow(rec.id);
      const delay = failureDelayMs(counted.failures);
      throw new WrongPinError(MAX_PIN_FAILURES - counted.failures, delay ? counted.lastFailureAt + delay : null);
    }
    const fresh = await update(rec.id, (r) => { r.failures = 0; r.lastFailureAt = null; });
    return openSecret(fresh, deviceKey, ck);
  }
}

// Neither counts nor resets PIN failures: only the right PIN proves the PIN.
export async function unlockWithPrf(prfOutput) {
  const { rec, deviceKey } = await loadChecked();
  const prf = enrolled(rec);
  checkPrfOutput(prfOutput);
  const inner = await unseal(deviceKey, rec.id, "prf", prf.data);
  const key = await prfKey(prfOutput, rec.id);
  const ck = await gcmDecrypt(key, prf.iv, inner, prfAad(rec, prf.credentialId)).catch(() => {
    throw new BiometricError("this authenticator's answer does not open the vault", "biometric_refused");
  });
  return openSecret(rec, deviceKey, ck);
}

function enrolled(rec) {
  if (!rec.wrapped.prf) throw notEnrolled();
  return rec.wrapped.prf;
}

export async function prfCredential() {
  const { credentialId, salt } = enrolled((await loadChecked()).rec);
  return { credentialId, salt };
}

export async function setPrf(handle, prfOutput, credentialId, salt) {
  if (!contentKeys.has(handle)) throw new TypeError("setPrf needs the handle unlock() returned");
  checkPrfOutput(prfOutput);
  credentialId = bytes(credentialId);
  await rewrap(handle, "prf", async (rec, deviceKey, ck) => {
    const key = await prfKey(prfOutput, rec.id);
    return { credentialId, salt: bytes(salt), ...(await wrap(deviceKey, rec, "prf", key, ck, prfAad(rec, credentialId))) };
  });
}

export async function clearPrf() {
  await update(null, (r) => { delete r.wrapped.prf; r.generation += 1; });
}

// The current PIN counts like any try; only CK is wrapped anew.
export async function changePin(oldPin, newPin, { now = Date.now() } = {}) {
  newPin = normalisePin(newPin);
  const handle = await unlock(oldPin, { now });
  await rewrap(handle, "pin", (rec, deviceKey, ck) => wrapUnderPin(rec, deviceKey, ck, newPin));
  return handle;
}

export async function updateOffset(seconds) {
  if (!Number.isFinite(seconds)) throw invalidToken("serverTimeOffset");
  await update(null, (r) => { r.serverTimeOffset = seconds; });
}

export async function wipe() {
  await transact("readwrite", (store, settle) => { wipeIn(store); settle(); });
}
