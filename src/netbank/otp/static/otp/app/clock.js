// The bank's clock: the phone's offset from a network answer's Date header; warns past 15 s.
const DRIFT_LIMIT_SECONDS = 15;

let offset = 0; // seconds, bank − phone
let measured = false;

export const setOffset = (s) => { offset = Number.isFinite(s) ? s : 0; };
export const currentOffset = () => offset;
export const wasMeasured = () => measured;
export const bankNow = (phoneMs = Date.now()) => phoneMs / 1000 + offset;

// Date's whole second (its middle) against the request's midpoint.
export function offsetFrom(date, sentMs, receivedMs) {
  const bank = Date.parse(date || "");
  return Number.isFinite(bank) ? Math.round((bank + 500 - (sentMs + receivedMs) / 2) / 1000) : null;
}

// "no-store": the worker never answers it from cache (an old Date would lie).
export async function measure(url, fetcher = fetch) {
  const sent = Date.now();
  const response = await fetcher(url, { cache: "no-store", credentials: "omit" });
  const s = offsetFrom(response.headers.get("Date"), sent, Date.now());
  if (s !== null) { offset = s; measured = true; }
  return { offset: s, response };
}

// {key, seconds} or null. The bank ahead means the phone is slow.
export function driftWarning(s = offset) {
  if (Math.abs(s) <= DRIFT_LIMIT_SECONDS) return null;
  return { key: s > 0 ? "clock_slow" : "clock_fast", seconds: Math.abs(s) };
}
