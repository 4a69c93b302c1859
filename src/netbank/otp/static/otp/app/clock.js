// The bank's clock as the app knows it: codes are accepted only near the bank's time, so
// the app measures the phone's offset from the Date header of a network answer and warns
// past 15 s. The vault keeps the last offset for offline use.
export const DRIFT_LIMIT_SECONDS = 15;

let offset = 0; // seconds, bank − phone
let measured = false;

export const setOffset = (s) => { offset = Number.isFinite(s) ? s : 0; };
export const currentOffset = () => offset;
export const wasMeasured = () => measured;
// Now on the bank's clock, in seconds.
export const bankNow = (phoneMs = Date.now()) => phoneMs / 1000 + offset;

// Date has whole seconds, written during the answer: it stands for the middle of that
// second, compared with the middle of the request.
export function offsetFrom(date, sentMs, receivedMs) {
  const bank = Date.parse(date || "");
  return Number.isFinite(bank) ? Math.round((bank + 500 - (sentMs + receivedMs) / 2) / 1000) : null;
}

// Fetched with cache "no-store", which the service worker never answers from its copy (an
// old Date would lie); throws offline. Returns {offset, response}.
export async function measure(url, fetcher = fetch) {
  const sent = Date.now();
  const response = await fetcher(url, { cache: "no-store", credentials: "omit" });
  const s = offsetFrom(response.headers.get("Date"), sent, Date.now());
  if (s !== null) { offset = s; measured = true; }
  return { offset: s, response };
}

// {key, seconds} of the warning, or null. The bank ahead means the phone is slow.
export function driftWarning(s = offset) {
  if (Math.abs(s) <= DRIFT_LIMIT_SECONDS) return null;
  return { key: s > 0 ? "clock_slow" : "clock_fast", seconds: Math.abs(s) };
}
