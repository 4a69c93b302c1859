// install.json (docs/protocols.md §1.10), read as token_app.install_config reads it.

import { SERVICE_ID_RE, b64urlDecode, concat, errorClass, hex, isObject, parseUrl, utf8 } from "./bytes.js";

const FORMAT = "netbank-install/2";

export const InstallConfigError = errorClass("InstallConfigError");
export class BankKeyExpiredError extends InstallConfigError {}
const refuse = (message) => { throw new InstallConfigError(message); };

function rawKey(text) {
  try {
    return b64urlDecode(text, 32, "bank public key");
  } catch (error) {
    refuse(error.message);
  }
}

// Only real UTC times (as question.js's calendarDay).
function notAfterParse(text) {
  const date = typeof text === "string" && /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/.test(text) ? new Date(text) : null;
  if (!date || isNaN(date) || text.startsWith("0000") || date.toISOString() !== text.replace("Z", ".000Z")) {
    refuse("not_after must be a real UTC time like 2027-12-31T23:59:59Z");
  }
  return date.getTime() / 1000;
}

function bankKey(value, name) {
  const fail = (m) => { refuse(`${name}: ${m}`); };
  if (!isObject(value) || Object.keys(value).sort().join() !== "key_id,not_after,public_key") {
    fail("a bank key is an object with key_id, public_key and not_after");
  }
  if (typeof value.key_id !== "string" || !/^[A-Za-z0-9_.-]{1,32}$/.test(value.key_id)) fail("key_id must be 1-32 of [A-Za-z0-9_.-]");
  try {
    rawKey(value.public_key);
    return { keyId: value.key_id, publicKey: value.public_key, notAfter: notAfterParse(value.not_after) };
  } catch (error) {
    return fail(error.message);
  }
}

// As strictly as install_config_parse; keys are {keyId, publicKey, notAfter (Unix seconds)}.
export function parseInstallConfig(json) {
  let data = json;
  try {
    if (typeof json === "string") data = JSON.parse(json);
  } catch {
    refuse("install.json is not JSON");
  }
  if (isObject(data) && data.format === "netbank-install/1") {
    refuse("install.json is the old netbank-install/1; get the current one from the bank's download page");
  }
  if (!isObject(data) || data.format !== FORMAT) refuse(`install.json is not ${FORMAT}`);
  for (const name of ["bank_url", "bank_name", "service_id"]) {
    if (name in data && typeof data[name] !== "string") refuse(`${name} must be a string`);
  }
  const current = bankKey(data.bank_key, "bank_key");
  const next = data.next_bank_key == null ? null : bankKey(data.next_bank_key, "next_bank_key");
  const config = {
    bankName: data.bank_name ?? "", bankUrl: data.bank_url ?? "", serviceId: data.service_id ?? "", bankKey: current, nextBankKey: next,
  };
  const url = parseUrl(config.bankUrl);
  if (!url?.hostname || !["https:", "http:"].includes(url.protocol)) refuse("bank_url must be an https:// URL");
  if (next && (next.publicKey === current.publicKey || next.keyId === current.keyId)) {
    refuse("the next key must differ from the current one");
  }
  if (next && next.notAfter <= current.notAfter) refuse("the next key must outlive the current one");
  if (config.serviceId && !SERVICE_ID_RE.test(config.serviceId)) refuse("service_id must be 1-32 letters, digits, '-' or '_'");
  return config;
}

// As bankkeys.trusted_keys: both during a rollover, then only the next.
export function keysAt(config, nowSeconds) {
  const keys = [config.bankKey, config.nextBankKey].filter(Boolean);
  const valid = keys.filter((key) => nowSeconds < key.notAfter);
  if (!valid.length) {
    const latest = new Date(Math.max(0, ...keys.map((key) => key.notAfter)) * 1000).toISOString().replace(".000Z", "Z");
    throw new BankKeyExpiredError(`every bank key in install.json expired (last ${latest})`);
  }
  return valid;
}

// "ABCD 1234 …", as bankkeys.key_fingerprint.
export async function fingerprint(publicKeyText) {
  const digest = await crypto.subtle.digest("SHA-256", concat(utf8("netbank-bank-key\0"), rawKey(publicKeyText)));
  return hex(new Uint8Array(digest)).slice(0, 20).toUpperCase().match(/..../g).join(" ");
}
