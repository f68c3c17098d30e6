/** Display formatting. Every instant on the page is UTC, and says so. */

const integer = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });

export function formatCount(n: number): string {
  return integer.format(n);
}

/** `2017-01-01 18:05` */
export function formatMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

export function formatNumber(value: number | null, unit: string, digits = 1): string {
  return value === null ? 'not reported' : `${value.toFixed(digits)} ${unit}`;
}

export function formatCoordinate(lat: number, long: number): string {
  return `${Math.abs(lat).toFixed(5)}° ${lat < 0 ? 'S' : 'N'}, ${Math.abs(long).toFixed(5)}° ${long < 0 ? 'W' : 'E'}`;
}

/** `2017-01-01T18:05` for a datetime-local input, read as UTC. */
export function toInputValue(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

/** A datetime-local value read as UTC, or null when empty or malformed. */
export function fromInputValue(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const ms = Date.parse(`${value}Z`);
  return Number.isNaN(ms) ? null : ms;
}
