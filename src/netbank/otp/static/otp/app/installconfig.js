/**
 * The install configuration (docs/protocols.md §1.10, format netbank-install/2): which
 * bank the app talks to and which Ed25519 keys it trusts, each only until its not_after.
 * A port of netbank.token_app.install_config and netbank.oath.bankkeys. The app reads it
 * from its own origin (/app/install.json), never from the token mail.
 */

import { b64urlDecode, concat, hex, utf8 } from "./bytes.js";

export const FORMAT = "netbank-install/2";
const OLD_FORMATS = ["netbank-install/1"];

/** The install configuration is missing, malformed or names no usable key. */
export class InstallConfigError extends Error {
  constructor(message) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** Every key of the configuration is past its not_after: the app needs a new one. */
export class BankKeyExpiredError extends InstallConfigError {}

const rawKey = (text) => {
  try {
    return b64urlDecode(text, 32, "bank public key");
  } catch (error) {
    throw new InstallConfigError(error.message);
  }
};

const notAfterText = (seconds) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** "2027-12-31T23:59:59Z" → Unix seconds; only real UTC times of years 1–9999 (a date
 * that JavaScript would roll over, like February 30, does not print back the same). */
function notAfterParse(text) {
  const m = typeof text === "string" && /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/.exec(text);
  if (!m) throw new InstallConfigError("not_after must be ISO 8601 UTC text like 2027-12-31T23:59:59Z");
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d); // not Date.UTC, which reads years 0–99 as 1900–1999
  date.setUTCHours(h, mi, s);
  const seconds = date.getTime() / 1000;
  if (y < 1 || notAfterText(seconds) !== text) throw new InstallConfigError(`not_after ${text} is not a real date`);
  return seconds;
}

/** One key entry: exactly key_id, public_key and not_after (BankKey.from_json). */
function bankKey(value, name) {
  const fail = (m) => { throw new InstallConfigError(`${name}: ${m}`); };
  if (typeof value !== "object" || value === null || Array.isArray(value) ||
      Object.keys(value).sort().join() !== "key_id,not_after,public_key") {
    fail("a bank key is an object with key_id, public_key and not_after");
  }
  if (typeof value.public_key !== "string") fail("public_key must be a string");
  if (typeof value.key_id !== "string" || !/^[A-Za-z0-9_.-]{1,32}$/.test(value.key_id)) fail("key_id must be 1-32 characters [A-Za-z0-9_.-]");
  try {
    rawKey(value.public_key);
    return { keyId: value.key_id, publicKey: value.public_key, notAfter: notAfterParse(value.not_after) };
  } catch (error) {
    return fail(error.message);
  }
}

/**
 * Parse install.json (text or parsed JSON) as strictly as install_config_parse:
 * → `{bankName, bankUrl, serviceId, bankKey, nextBankKey}` with keys
 * `{keyId, publicKey, notAfter}` (Unix seconds; trusted while now < notAfter).
 */
export function parseInstallConfig(json) {
  let data = json;
  if (typeof json === "string") {
    try {
      data = JSON.parse(json);
    } catch {
      throw new InstallConfigError("the install configuration is not JSON");
    }
  }
  const isObject = typeof data === "object" && data !== null && !Array.isArray(data);
  if (isObject && OLD_FORMATS.includes(data.format)) {
    throw new InstallConfigError(`the install configuration is the old format ${data.format} (keys without an end date); get the current one from the bank's download page`);
  }
  if (!isObject || data.format !== FORMAT) throw new InstallConfigError(`the install configuration is not ${FORMAT}`);
  for (const name of ["bank_url", "bank_name", "service_id"]) {
    if (name in data && typeof data[name] !== "string") throw new InstallConfigError(`${name} must be a string`);
  }
  const config = {
    bankName: data.bank_name ?? "", bankUrl: data.bank_url ?? "", serviceId: data.service_id ?? "",
    bankKey: bankKey(data.bank_key, "bank_key"),
    nextBankKey: data.next_bank_key == null ? null : bankKey(data.next_bank_key, "next_bank_key"),
  };
  let url = null;
  try {
    url = new URL(config.bankUrl);
  } catch {}
  if (!url || !["https:", "http:"].includes(url.protocol) || !url.hostname) throw new InstallConfigError("bank_url must be an https:// URL");
  const [current, next] = [config.bankKey, config.nextBankKey];
  if (next && (next.publicKey === current.publicKey || next.keyId === current.keyId)) {
    throw new InstallConfigError("the next key must differ from the current one (key and key_id)");
  }
  if (next && next.notAfter <= current.notAfter) throw new InstallConfigError("the next key must stay valid after the current one expires");
  if (config.serviceId && !/^[A-Za-z0-9_-]{1,32}$/.test(config.serviceId)) {
    throw new InstallConfigError("service_id must be 1-32 letters, digits, '-' or '_'");
  }
  return config;
}

/**
 * The keys trusted at `nowSeconds` (bankkeys.trusted_keys): each until its not_after,
 * so the current and the next key while both run, then only the next one. The first is
 * the one whose fingerprint the app shows. BankKeyExpiredError when none is left.
 */
export function keysAt(config, nowSeconds) {
  const keys = [config.bankKey, config.nextBankKey].filter(Boolean);
  const valid = keys.filter((key) => nowSeconds < key.notAfter);
  if (!valid.length) {
    const latest = Math.max(0, ...keys.map((key) => key.notAfter));
    throw new BankKeyExpiredError(`every bank key in the install configuration expired (last ${notAfterText(latest)})`);
  }
  return valid;
}

/** "ABCD 1234 …": SHA-256("netbank-bank-key\0" ‖ key), the first 80 bits in upper-case hex. */
export async function fingerprint(publicKeyText) {
  const digest = await crypto.subtle.digest("SHA-256", concat(utf8("netbank-bank-key\0"), rawKey(publicKeyText)));
  return hex(new Uint8Array(digest)).slice(0, 20).toUpperCase().match(/..../g).join(" ");
}
