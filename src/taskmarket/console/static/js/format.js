// Money in the currency's own format (its exponent decides the decimals), times in the
// browser's zone.

const formats = new Map();

function currencyFormat(currency) {
  if (!formats.has(currency)) {
    formats.set(currency, new Intl.NumberFormat(undefined, { style: "currency", currency }));
  }
  return formats.get(currency);
}

export function exponent(currency) {
  return currencyFormat(currency).resolvedOptions().maximumFractionDigits;
}

// amount: integer minor units (a number, or a string for BigInt amounts); exact.
export function money(amount, currency) {
  const digits = exponent(currency);
  let text = String(amount);
  const negative = text.startsWith("-");
  if (negative) text = text.slice(1);
  text = text.padStart(digits + 1, "0");
  const decimal = digits ? `${text.slice(0, -digits)}.${text.slice(-digits)}` : text;
  return currencyFormat(currency).format(`${negative ? "-" : ""}${decimal}`);
}

// Minor units as a plain number of major units, for charts only.
export function major(amount, currency) {
  return Number(amount) / 10 ** exponent(currency);
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  second: "2-digit", timeZoneName: "short" });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

export function time(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "—";
}

// The local calendar day of a time, as YYYY-MM-DD.
export function localDay(date) {
  const d = new Date(date);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function dayLabel(day) {
  const [y, m, d] = day.split("-").map(Number);
  return dayFormat.format(new Date(y, m - 1, d));
}

export function startOfLocalDay(date = new Date()) {
  const d = new Date(date);
  d.setHours(0, 0, 0, 0);
  return d;
}

export function percent(value) {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)} %`;
}
