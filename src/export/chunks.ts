/** An ISO 8601 UTC instant, as in every Locus answer. */
export function isoMinute(ms: number): string {
  return new Date(ms).toISOString();
}
