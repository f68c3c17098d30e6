/** One problem with one field of an input; `field` is the property name, or `body` for the whole input. */
export interface FieldError {
  field: string;
  message: string;
}

/** A valid point with its UTC instant resolved: what every store receives. */
export interface Point {
  userId: string;
  /** UTC instant, milliseconds since the Unix epoch. */
  tsMs: number;
  lat: number;
  long: number;
  /** Metres; null when the source does not report it (some tracking apps and files). */
  accuracy: number | null;
  /** Metres per second; null when the source does not report it. */
  speed: number | null;
}

/** What happened to one point offered to the store: new, or a repeat of an earlier (user, instant). */
export type IngestOutcome = 'stored' | 'duplicate';

/** A stage result: a value, or the reasons there is none. */
export type Result<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/**
 * A fix as every door hands it to the composer (compose.ts): PUT /location's field names and units, typed but not
 * yet checked (values may be out of range, NaN included). App mappers and import readers build one; a Locus JSON
 * body (PUT /location, a batch item) is meant to be one, and the composer checks that it is.
 */
export interface RawFix {
  user_id: string;
  /**
   * Timestamp text as PUT /location takes it: `YYYY-MM-DD HH:MM:SS[.fff]` local wall time (the zone comes from the
   * coordinates), or with an offset or `Z` when the source says which instant it is.
   */
  timestamp: string;
  /** Degrees (WGS 84). */
  lat: number;
  long: number;
  /** Metres; null when the source does not report it. */
  accuracy: number | null;
  /** Metres per second; null when the source does not report it. */
  speed: number | null;
}
