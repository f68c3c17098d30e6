/*
 * Every limit on what Locus takes in, in one leaf module: the field schemas, the stages, the routes and the import
 * destinations import them from here, so a limit is defined once and nothing here imports anything.
 */

/** Horizontal accuracy above this is not a measurement: farther than any two points on Earth are apart. */
export const MAX_ACCURACY_M = 20_000_000;
/** Speed above this is not a phone's: far beyond anything that carries one. */
export const MAX_SPEED_MPS = 100_000;
/** The same speed bound in the km/h OwnTracks sends. */
export const MAX_SPEED_KMH = (MAX_SPEED_MPS * 3600) / 1000;

/** User ids are 1 to this many characters (code points). */
export const MAX_USER_ID_LENGTH = 128;

/** The years a timestamp text may name. */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 9999;
/** The instants a timestamp text can express, for formats that send epoch times. */
export const MIN_INSTANT_MS = Date.UTC(MIN_YEAR, 0, 1);
export const MAX_INSTANT_MS = Date.UTC(MAX_YEAR, 11, 31, 23, 59, 59, 999);
export const MIN_EPOCH_SECONDS = MIN_INSTANT_MS / 1000;
export const MAX_EPOCH_SECONDS = Math.floor(MAX_INSTANT_MS / 1000);

/** One point's body (PUT /location, a form of OsmAnd), and one NDJSON line of a batch. */
export const MAX_POINT_BODY_BYTES = 64 * 1024;
/** Points in one batch (POST /locations, Overland, one request of `locus import --api`). */
export const MAX_BATCH_POINTS = 10_000;
/** One batch's body. */
export const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/**
 * One OwnTracks message: larger than a point's, because a `card` message carries a base64 picture. Such messages
 * are ignored, but an app answered 413 would resend them forever.
 */
export const MAX_OWNTRACKS_BODY_BYTES = 1024 * 1024;

/**
 * Nesting of a JSON body or NDJSON line: far beyond any real payload (an Overland batch nests 5 deep), and low
 * enough that a hostile body of brackets is refused by a byte scan before the parser builds it.
 */
export const MAX_JSON_DEPTH = 64;
/** Values (array elements, object members) in one JSON body: 100 per point of the largest batch. */
export const MAX_JSON_VALUES = 100 * MAX_BATCH_POINTS;
/** A body larger than this counts as large: only a few are read and parsed at once. */
export const LARGE_BODY_BYTES = 1024 * 1024;
/** Large bodies read and parsed at once; more are answered 503 `overloaded`. */
export const MAX_LARGE_BODIES_IN_FLIGHT = 4;
