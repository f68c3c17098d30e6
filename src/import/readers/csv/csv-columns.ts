/* The challenge CSV's columns, which both detection (csv-format.ts) and the reader know. */

/** The columns the reader takes, in any order; others are ignored. */
export const CSV_COLUMNS = ['timestamp', 'lat', 'long', 'accuracy', 'speed', 'user_id'] as const;

/** The columns a file needs to be read as challenge CSV (user_id may come from --user instead). */
export const CSV_REQUIRED_COLUMNS = ['timestamp', 'lat', 'long'] as const;
