/**
 * The install configuration (docs/protocols.md §1.10, netbank-install/2): the bank the app
 * talks to and the Ed25519 keys it trusts, each until its not_after. A port of
 * netbank.token_app.install_config and netbank.oath.bankkeys. Read from the app's own
 * origin (/app/install.json), never from the token mail.
 */

import { SERVICE_ID_RE, b64urlDecode, concat, errorClass, hex, isObject, utf8 } from "./bytes.js";

const FORMAT = "netbank-install/2";

export const InstallConfigError = errorClass("InstallConfigError");
/** Every key is past its not_after: the app needs a new configuration. */
export class BankKeyExpiredError extends InstallConfigError {}

function rawKey(text) {
  try {
    return b64urlDecode(text, 32, "bank public key");
  } catch (error) {
    throw new InstallConfigError(error.message);
  }
}

/** "2027-12-31T23:59:59Z" → Unix seconds; only real UTC times of years 1–9999. */
function notAfterParse(text) {
  const m = typeof text === "string" && /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/.exec(text);
  if (!m) throw new InstallConfigError("not_after must be ISO 8601 UTC text like 2027-12-31T23:59:59Z");
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d); // not Date.UTC, which reads years 0–99 as 1900–1999
  date.setUTCHours(h, mi, s);
  // A day, hour or second out of range rolls over and no longer reads back the same.
  if (y < 1 || date.toISOString() !== text.replace("Z", ".000Z")) throw new InstallConfigError(`not_after ${text} is not a real date`);
  return date.getTime() / 1000;
}

/** One key entry: exactly key_id, public_key and not_after (BankKey.from_json). */
function bankKey(value, name) {
  const fail = (m) => { throw new InstallConfigError(`${name}: ${m}`); };
  if (!isObject(value) || Object.keys(value).sort().join() !== "key_id,not_after,public_key") {
    fail("a bank key is an object with key_id, public_key and not_after");
  }
  if (typeof value.key_id !== "string" || !/^[A-Za-z0-9_.-]{1,32}$/.test(value.key_id)) fail("key_id must be 1-32 characters [A-Za-z0-9_.-]");
  try {
    rawKey(value.public_key);
    return { keyId: value.key_id, publicKey: value.public_key, notAfter: notAfterParse(value.not_after) };
  } catch (error) {
    return fail(error.message);
  }
}

/**
 * install.json (text or parsed JSON), as strictly as install_config_parse →
 * `{bankName, bankUrl, serviceId, bankKey, nextBankKey}`, keys `{keyId, publicKey, notAfter}`.
 */
export function parseInstallConfig(json) {
  let data = json;
  try {
    if (typeof json === "string") data = JSON.parse(json);
  } catch {
    throw new InstallConfigError("the install configuration is not JSON");
  }
  if (isObject(data) && data.format === "netbank-install/1") {
    throw new InstallConfigError("the install configuration is the old format netbank-install/1 (keys without an end date); get the current one from the bank's download page");
  }
  if (!isObject(data) || data.format !== FORMAT) throw new InstallConfigError(`the install configuration is not ${FORMAT}`);
  for (const name of ["bank_url", "bank_name", "service_id"]) {
    if (name in data && typeof data[name] !== "string") throw new InstallConfigError(`${name} must be a string`);
  }
  const current = bankKey(data.bank_key, "bank_key");
  const next = data.next_bank_key == null ? null : bankKey(data.next_bank_key, "next_bank_key");
  const config = { bankName: data.bank_name ?? "", bankUrl: data.bank_url ?? "", serviceId: data.service_id ?? "", bankKey: current, nextBankKey: next };
  let url = null;
  try {
    url = new URL(config.bankUrl);
  } catch {}
  if (!url?.hostname || !["https:", "http:"].includes(url.protocol)) throw new InstallConfigError("bank_url must be an https:// URL");
  if (next && (next.publicKey === current.publicKey || next.keyId === current.keyId)) {
    throw new InstallConfigError("the next key must differ from the current one (key and key_id)");
  }
  if (next && next.notAfter <= current.notAfter) throw new InstallConfigError("the next key must stay valid after the current one expires");
  if (config.serviceId && !SERVICE_ID_RE.test(config.serviceId)) throw new InstallConfigError("service_id must be 1-32 letters, digits, '-' or '_'");
  return config;
}

/**
 * The keys trusted at `nowSeconds` (bankkeys.trusted_keys): each until its not_after, so
 * both during a rollover, then only the next. The first is the one whose fingerprint is shown.
 */
export function keysAt(config, nowSeconds) {
  const keys = [config.bankKey, config.nextBankKey].filter(Boolean);
  const valid = keys.filter((key) => nowSeconds < key.notAfter);
  if (!valid.length) {
    const latest = new Date(Math.max(0, ...keys.map((key) => key.notAfter)) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    throw new BankKeyExpiredError(`every bank key in the install configuration expired (last ${latest})`);
  }
  return valid;
}

/** "ABCD 1234 …": SHA-256("netbank-bank-key\0" ‖ key), the first 80 bits in upper-case hex. */
export async function fingerprint(publicKeyText) {
  const digest = await crypto.subtle.digest("SHA-256", concat(utf8("netbank-bank-key\0"), rawKey(publicKeyText)));
  return hex(new Uint8Array(digest)).slice(0, 20).toUpperCase().match(/..../g).join(" ");
}
