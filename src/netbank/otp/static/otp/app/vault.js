// The phone app's vault: the token behind the app lock (PIN), in IndexedDB "netbank-app".
// The PIN rules are those of the Python app (src/netbank/token_app/vault.py, docs/token-app.md):
// a wrong PIN is counted and saved BEFORE the key derivation (an app killed mid-try has
// paid for it) and the count is reset by a right one; the first 2 cost nothing, from the
// 3rd the next try waits 15 s, doubling; the 10th wipes the token.
//
// Keys: a random 256-bit content key CK encrypts seed ‖ signing key (AES-GCM, the token's
// settings as AAD). CK is wrapped under PBKDF2-SHA-256(PIN, 600,000 iterations) and, once
// enrolled, under HKDF(WebAuthn PRF output) (biometric.js). Every wrapped or encrypted part
// is sealed once more under a non-extractable AES-GCM device key kept in the same database:
// a copy of the records without this browser profile opens with no PIN at all.
// The settings (serviceId, failures, …) stay readable so the locked screen can show them.
// Times (now, retryAt, createdAt, lastFailureAt) are milliseconds since the epoch.

const DB_NAME = "netbank-app";
const STORE = "vault";
const RECORD = "token";
const DEVICE_KEY = "deviceKey";
const FORMAT = 1;
export const PBKDF2_ITERATIONS = 600_000; // new wraps (OWASP 2023 for PBKDF2-HMAC-SHA256)
const MIN_ITERATIONS = 600_000; // never fewer: a record saying less was lowered by someone
export const MAX_PIN_FAILURES = 10;
const FREE_FAILURES = 2;
const FIRST_DELAY_MS = 15_000;
const WARN_WHEN_ATTEMPTS_LEFT = 3;
const ALGORITHMS = ["SHA1", "SHA256", "SHA512"];
// The token's settings, kept readable and bound to its secrets (see secretAad).
const SETTINGS = ["serviceId", "userId", "bankUrl", "keyFingerprint", "algorithm", "digits", "period"];
const subtle = globalThis.crypto.subtle;
const enc = new TextEncoder();

// --- errors (code = the Python app's stable names, for the screens' messages) -----------

export class VaultError extends Error {
  constructor(code, message) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}
export class VaultNotFoundError extends VaultError {
  constructor() { super("vault_not_found", "no token on this device"); }
}
export class VaultExistsError extends VaultError {
  constructor() { super("vault_exists", "a token already exists on this device"); }
}
export class VaultTamperedError extends VaultError {
  constructor(why) { super("vault_tampered", `the vault is not one this app wrote here: ${why}`); }
}
export class DeviceKeyMissingError extends VaultError {
  constructor() { super("device_secret_missing", "this browser holds no device key for the vault (a copied vault)"); }
}
export class VaultChangedError extends VaultError {
  constructor() { super("vault_changed", "the vault was changed in another window; unlock it again"); }
}
export class VaultStorageError extends VaultError {
  constructor(why) { super("vault_io", `the browser's storage failed: ${why}`); }
}
export class InvalidPinError extends VaultError {
  constructor() { super("invalid_pin", "the PIN must be 4 to 8 digits"); }
}
export class InvalidTokenError extends VaultError {
  constructor(field) { super("invalid_token", `the token's ${field} is missing or malformed`); this.field = field; }
}
export class WrongPinError extends VaultError {
  constructor(attemptsLeft, retryAt) {
    super("wrong_pin", `wrong PIN; ${attemptsLeft} attempts left`);
    this.attemptsLeft = attemptsLeft;
    this.retryAt = retryAt; // ms, or null: the next try may come at once
  }
  get warn() { return this.attemptsLeft <= WARN_WHEN_ATTEMPTS_LEFT; }
}
export class PinDelayError extends VaultError {
  constructor(retryAt, waitSeconds, attemptsLeft) {
    super("pin_delay", `wait ${waitSeconds} s before the next PIN`);
    Object.assign(this, { retryAt, waitSeconds, attemptsLeft });
  }
  get warn() { return this.attemptsLeft <= WARN_WHEN_ATTEMPTS_LEFT; }
}
export class VaultWipedError extends VaultError {
  constructor() { super("vault_wiped", "too many wrong PINs: the token was erased"); }
}
// A biometric unlock that did not happen (cancelled, not verified, not enrolled, another
// authenticator). Never a PIN failure: the PIN screen stays the way in.
export class BiometricError extends VaultError {}

// --- PIN rules -------------------------------------------------------------------------------

// 4–8 digits, full-width ones (a Japanese keyboard's) read as ASCII. The Python app's
// passphrase and 8-digit rules belong to a vault without an OS keyring; here the device key
// lives in the browser's app storage, which the phone's sandbox guards like a keyring.
export function normalisePin(pin) {
  const ascii = typeof pin === "string"
    ? pin.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)) : "";
  if (!/^[0-9]{4,8}$/.test(ascii)) throw new InvalidPinError();
  return ascii;
}

export function failureDelayMs(failures) {
  return failures <= FREE_FAILURES ? 0 : FIRST_DELAY_MS * 2 ** (failures - FREE_FAILURES - 1);
}

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

// --- IndexedDB -------------------------------------------------------------------------------

let opening = null;
function database() {
  opening ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    // Later versions add stores or migrate records by their `format`; nothing is ever deleted here.
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
    };
    req.onsuccess = () => {
      const db = req.result;
      db.onversionchange = () => { db.close(); opening = null; };
      db.onclose = () => { opening = null; }; // storage cleared by the browser: open anew next time
      resolve(db);
    };
    req.onerror = () => { opening = null; reject(new VaultStorageError(req.error?.message)); };
  });
  return opening;
}

// One transaction: `body(store, settle)` issues its requests from their callbacks, without
// awaiting anything (a transaction commits as soon as nothing is pending), and calls
// settle(value) or settle(undefined, error): the outcome, delivered once it is committed.
async function transact(mode, body, options) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode, options);
    let value, error;
    tx.oncomplete = () => (error ? reject(error) : resolve(value));
    tx.onabort = () => reject(error ?? new VaultStorageError(tx.error?.message ?? "aborted"));
    body(tx.objectStore(STORE), (v, e) => { value = v; error = e; });
  });
}

function readAll() {
  return transact("readonly", (store, settle) => {
    const rec = store.get(RECORD), key = store.get(DEVICE_KEY);
    key.onsuccess = () => settle({ rec: rec.result, deviceKey: key.result });
  });
}

// Change the record in one transaction: `change(rec, store)` returns nothing (the record is
// saved) or the error to report (nothing saved but what it deleted itself); `id` guards
// against a record replaced meanwhile.
function update(id, change, options) {
  return transact("readwrite", (store, settle) => {
    const req = store.get(RECORD);
    req.onsuccess = () => {
      const rec = req.result;
      if (!rec) return settle(undefined, new VaultNotFoundError());
      if (id && rec.id !== id) return settle(undefined, new VaultChangedError());
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
// The tenth failure (found counted, e.g. the app killed mid-try): that vault goes; throws.
const wipeTenth = (id) => update(id, (r, store) => wipeIn(store));

// --- crypto helpers -------------------------------------------------------------------------

const random = (n) => crypto.getRandomValues(new Uint8Array(n));
const bytes = (b) => new Uint8Array(b);
const label = (...parts) => enc.encode(JSON.stringify(["netbank-app vault v1", ...parts]));
const aesKey = (raw) => subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);

async function gcmEncrypt(key, plain, aad) {
  const iv = random(12);
  return { iv, data: bytes(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, key, plain)) };
}
async function gcmDecrypt(key, iv, data, aad) {
  return bytes(await subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, key, data));
}

// The device seal: outer IV ‖ AES-GCM(device key, inner ciphertext), AAD = record id + purpose.
async function seal(deviceKey, id, purpose, inner) {
  const { iv, data } = await gcmEncrypt(deviceKey, inner, label("seal", id, purpose));
  const out = new Uint8Array(12 + data.length);
  out.set(iv);
  out.set(data, 12);
  return out;
}
async function unseal(deviceKey, id, purpose, sealed) {
  if (!(sealed instanceof Uint8Array) || sealed.length < 28) throw new VaultTamperedError(purpose);
  try {
    return await gcmDecrypt(deviceKey, sealed.subarray(0, 12), sealed.subarray(12), label("seal", id, purpose));
  } catch {
    throw new VaultTamperedError(`${purpose} is sealed under another device key`);
  }
}

async function pinKey(pin, salt, iterations) {
  const base = await subtle.importKey("raw", enc.encode(pin), "PBKDF2", false, ["deriveKey"]);
  return subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base,
    { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}
async function prfKey(prfOutput, id) {
  const base = await subtle.importKey("raw", prfOutput, "HKDF", false, ["deriveKey"]);
  return subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: enc.encode(id), info: enc.encode("netbank-app vault prf key v1") },
    base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

// The token's settings bound to its secrets: changing one makes the record unreadable.
const secretAad = (r) => label("secret", r.id, ...SETTINGS.map((f) => r[f]));
const pinAad = (r) => label("ck-pin", r.id, r.kdf.iterations);
const prfAad = (r, credentialId) => label("ck-prf", r.id, Array.from(credentialId));

async function wrapUnderPin(deviceKey, rec, pin, ck) {
  const salt = random(16);
  const { iv, data } = await gcmEncrypt(await pinKey(pin, salt, rec.kdf.iterations), ck, pinAad(rec));
  return { salt, iv, data: await seal(deviceKey, rec.id, "pin", data) };
}

// --- the unlocked vault ------------------------------------------------------------------------

// What unlock() gives: the token, and CK for setPrf (private; never stored in the clear).
class VaultHandle {
  #ck;
  constructor(id, ck, token) {
    this.id = id;
    this.#ck = ck;
    this.token = token;
  }
  static contentKey(handle) { return handle.#ck; }
}

function checkToken(t) {
  const ok = (field, good) => { if (!good) throw new InvalidTokenError(field); };
  ok("token", t && typeof t === "object");
  ok("seed", t.seed instanceof Uint8Array && t.seed.length > 0 && t.seed.length < 256);
  ok("signingKey", t.signingKey instanceof Uint8Array && t.signingKey.length > 0);
  ok("algorithm", ALGORITHMS.includes(t.algorithm));
  ok("digits", Number.isInteger(t.digits) && t.digits >= 6 && t.digits <= 10);
  ok("period", Number.isInteger(t.period) && t.period > 0);
  for (const f of ["serviceId", "userId"]) ok(f, typeof t[f] === "string" && t[f] !== "");
  for (const f of ["bankUrl", "keyFingerprint"]) ok(f, t[f] === undefined || typeof t[f] === "string");
  ok("serverTimeOffset", t.serverTimeOffset === undefined || Number.isFinite(t.serverTimeOffset));
}

async function openSecret(rec, deviceKey, ck) {
  const sealed = await unseal(deviceKey, rec.id, "secret", rec.secret.data);
  let plain;
  try {
    plain = await gcmDecrypt(await aesKey(ck), rec.secret.iv, sealed, secretAad(rec));
  } catch {
    throw new VaultTamperedError("the token's settings were changed");
  }
  const n = plain[0];
  const token = {
    seed: plain.slice(1, 1 + n), signingKey: plain.slice(1 + n),
    serverTimeOffset: rec.serverTimeOffset,
  };
  for (const f of SETTINGS) token[f] = rec[f];
  return new VaultHandle(rec.id, ck, token);
}

// The record and device key, checked before any PIN is tried: a foreign or altered vault
// is refused as such and never counts as (or hides behind) a wrong PIN.
async function loadChecked() {
  const { rec, deviceKey } = await readAll();
  if (!rec) throw new VaultNotFoundError();
  if (rec.format !== FORMAT) throw new VaultTamperedError(`format ${rec.format}`);
  if (!(rec.secret && rec.wrapped?.pin)) throw new VaultTamperedError("parts missing");
  if (!deviceKey) throw new DeviceKeyMissingError();
  const it = rec.kdf?.iterations;
  if (!Number.isInteger(it) || it < MIN_ITERATIONS || it > 100 * MIN_ITERATIONS) {
    throw new VaultTamperedError("PBKDF2 iterations");
  }
  return { rec, deviceKey };
}

// --- API ---------------------------------------------------------------------------------------

export async function vaultExists() {
  return Boolean((await readAll()).rec);
}

// What the locked screen shows (throws VaultNotFoundError when there is no token).
export async function status({ now = Date.now() } = {}) {
  const { rec } = await readAll();
  if (!rec) throw new VaultNotFoundError();
  const out = lockStatus(rec, now);
  for (const f of [...SETTINGS, "serverTimeOffset", "createdAt"]) out[f] = rec[f];
  out.biometric = Boolean(rec.wrapped?.prf);
  return out;
}

export async function createVault(token, pin, { now = Date.now() } = {}) {
  pin = normalisePin(pin);
  checkToken(token);
  if (await vaultExists()) throw new VaultExistsError();
  const deviceKey = await subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const ck = random(32);
  const rec = {
    format: FORMAT, id: Array.from(random(16), (b) => b.toString(16).padStart(2, "0")).join(""),
    generation: 0, ...Object.fromEntries(SETTINGS.map((f) => [f, token[f] ?? ""])),
    serverTimeOffset: token.serverTimeOffset ?? 0, createdAt: now, failures: 0, lastFailureAt: null,
    kdf: { name: "PBKDF2", hash: "SHA-256", iterations: PBKDF2_ITERATIONS },
  };
  const plain = new Uint8Array(1 + token.seed.length + token.signingKey.length);
  plain[0] = token.seed.length;
  plain.set(token.seed, 1);
  plain.set(token.signingKey, 1 + token.seed.length);
  const inner = await gcmEncrypt(await aesKey(ck), plain, secretAad(rec));
  rec.secret = { iv: inner.iv, data: await seal(deviceKey, rec.id, "secret", inner.data) };
  rec.wrapped = { pin: await wrapUnderPin(deviceKey, rec, pin, ck) };
  // Ask the browser not to evict the app's storage under pressure (best effort; a home-screen
  // app is kept anyway). Not awaited: some browsers ask the user.
  navigator.storage?.persist?.().catch(() => {});
  await transact("readwrite", (store, settle) => {
    // add() fails on an existing record, aborting the whole transaction (device key too).
    store.add(rec, RECORD).onerror = () => settle(undefined, new VaultExistsError());
    store.put(deviceKey, DEVICE_KEY);
  });
  return openSecret(rec, deviceKey, ck);
}

export async function unlock(pin, { now = Date.now() } = {}) {
  pin = normalisePin(pin);
  for (;;) {
    const { rec, deviceKey } = await loadChecked();
    if (rec.failures >= MAX_PIN_FAILURES) await wipeTenth(rec.id);
    const pinPart = await unseal(deviceKey, rec.id, "pin", rec.wrapped.pin.data);
    // Count the try before the key derivation, in one transaction with the checks (two
    // windows cannot both slip through), saved durably: an app killed mid-way has paid.
    let counted;
    try {
      counted = await update(rec.id, (r, store) => {
        if (r.generation !== rec.generation) return new VaultChangedError();
        if (r.failures >= MAX_PIN_FAILURES) return wipeIn(store);
        const st = lockStatus(r, now);
        // Too soon: nothing written, a refused try is no try.
        if (st.retryAt !== null) return new PinDelayError(st.retryAt, st.waitSeconds, st.attemptsLeft);
        r.failures += 1;
        r.lastFailureAt = now;
      }, { durability: "strict" });
    } catch (e) {
      if (e instanceof VaultChangedError) continue; // changed in another window: read it again
      throw e;
    }
    let ck;
    try {
      const key = await pinKey(pin, rec.wrapped.pin.salt, rec.kdf.iterations);
      ck = await gcmDecrypt(key, rec.wrapped.pin.iv, pinPart, pinAad(rec));
    } catch {
      if (counted.failures >= MAX_PIN_FAILURES) await wipeTenth(rec.id);
      const delay = failureDelayMs(counted.failures);
      throw new WrongPinError(MAX_PIN_FAILURES - counted.failures, delay ? counted.lastFailureAt + delay : null);
    }
    const fresh = await update(rec.id, (r) => { r.failures = 0; r.lastFailureAt = null; });
    return openSecret(fresh, deviceKey, ck);
  }
}

// A biometric unlock: CK unwrapped with the key from the PRF output. Neither counts nor
// resets the PIN failures (only the right PIN proves the PIN), and a wiped vault stays gone.
export async function unlockWithPrf(prfOutput) {
  const { rec, deviceKey } = await loadChecked();
  if (rec.failures >= MAX_PIN_FAILURES) await wipeTenth(rec.id);
  const prf = rec.wrapped.prf;
  if (!prf) throw new BiometricError("biometric_not_enrolled", "no biometric unlock is set up");
  if (!(prfOutput instanceof Uint8Array) || prfOutput.length < 32) {
    throw new BiometricError("biometric_refused", "no PRF output");
  }
  const inner = await unseal(deviceKey, rec.id, "prf", prf.data);
  let ck;
  try {
    ck = await gcmDecrypt(await prfKey(prfOutput, rec.id), prf.iv, inner, prfAad(rec, prf.credentialId));
  } catch {
    throw new BiometricError("biometric_refused", "this authenticator's answer does not open the vault");
  }
  return openSecret(rec, deviceKey, ck);
}

// The credential and PRF input a biometric unlock asks the authenticator for (not secret).
export async function prfCredential() {
  const { rec } = await loadChecked();
  if (rec.failures >= MAX_PIN_FAILURES) await wipeTenth(rec.id);
  if (!rec.wrapped.prf) throw new BiometricError("biometric_not_enrolled", "no biometric unlock is set up");
  return { credentialId: rec.wrapped.prf.credentialId, salt: rec.wrapped.prf.salt };
}

export async function setPrf(handle, prfOutput, credentialId, salt) {
  if (!(handle instanceof VaultHandle)) throw new TypeError("setPrf needs the handle unlock() returned");
  if (!(prfOutput instanceof Uint8Array) || prfOutput.length < 32) throw new BiometricError("biometric_refused", "no PRF output");
  credentialId = bytes(credentialId);
  const { rec, deviceKey } = await loadChecked();
  if (rec.id !== handle.id) throw new VaultChangedError();
  const ck = VaultHandle.contentKey(handle);
  const { iv, data } = await gcmEncrypt(await prfKey(prfOutput, rec.id), ck, prfAad(rec, credentialId));
  const prf = { credentialId, salt: bytes(salt), iv, data: await seal(deviceKey, rec.id, "prf", data) };
  await update(rec.id, (r) => { r.wrapped.prf = prf; r.generation += 1; });
}

export async function clearPrf() {
  await update(null, (r) => { delete r.wrapped.prf; r.generation += 1; });
}

// The current PIN is asked again and counts like any try (docs/token-app.md, 設定);
// only CK is wrapped anew, so the secrets and a biometric unlock stay as they are.
export async function changePin(oldPin, newPin, { now = Date.now() } = {}) {
  newPin = normalisePin(newPin);
  const handle = await unlock(oldPin, { now });
  const { rec, deviceKey } = await loadChecked();
  if (rec.id !== handle.id) throw new VaultChangedError();
  const pin = await wrapUnderPin(deviceKey, rec, newPin, VaultHandle.contentKey(handle));
  await update(rec.id, (r) => { r.wrapped.pin = pin; r.generation += 1; });
  return handle;
}

// The bank-clock offset in seconds (measured by clock.js; not secret).
export async function updateOffset(seconds) {
  if (!Number.isFinite(seconds)) throw new InvalidTokenError("serverTimeOffset");
  await update(null, (r) => { r.serverTimeOffset = seconds; });
}

// The token and its device key, in one transaction.
export async function wipe() {
  await transact("readwrite", (store, settle) => { wipeIn(store); settle(); });
}
