import { Ajv, type Options } from 'ajv';
import { parseTimestamp, parseInstant } from '../ingest/timestamp.js';

/*
 * The user-id rules, besides its length (1–128 code points, counted after normalisation: ./location.ts):
 * - no control characters (category Cc: C0, DEL, C1);
 * - no format characters (category Cf): the bidi controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069)
 *   and the invisible ones (U+00AD, U+200B–U+200D, U+2060–U+2064, U+FEFF, the tag characters…): `alice\u200b`
 *   looks like `alice`, and `evil\u202Egpj.exe` like `evilexe.jpg`;
 * - no unpaired surrogates (text that is not Unicode);
 * - not `.` or `..`: URLs remove those path segments, so GET /users/{user_id}/… could never name the user.
 * The id is the key of a user in its Unicode NFC form (the composer normalises it: ../ingest/compose.ts); none of
 * these rules changes under normalisation, so they may be checked before or after it.
 */
const REFUSED_CHARACTER = /[\p{Cc}\p{Cf}]/u;
const CONTROL_CHARACTER = /\p{Cc}/u;
const FORMAT_CHARACTER = /\p{Cf}/u;

/** `U+200B`: a character named by its code point, since most of those refused are invisible. */
function codePointName(character: string): string {
  return `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Which user-id rule `text` breaks, worded as a field error message ("must not …"); null when it breaks none. */
export function userIdProblem(text: string): string | null {
  if (!text.isWellFormed()) return 'must not contain unpaired surrogates (text that is not Unicode)';
  const control = CONTROL_CHARACTER.exec(text)?.[0];
  if (control !== undefined) return `must not contain control characters (found ${codePointName(control)})`;
  const format = FORMAT_CHARACTER.exec(text)?.[0];
  if (format !== undefined)
    return `must not contain invisible format or bidi control characters (found ${codePointName(format)})`;
  if (text === '.' || text === '..')
    return "must not be '.' or '..': URLs drop those path segments, so /users/{user_id}/… could not name it";
  return null;
}

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * A user id in Unicode NFC, the form a user is keyed by. ASCII text is NFC already, and telling so is cheaper than
 * normalising: nearly every id is ASCII, and every point's id passes here.
 */
export function normalUserId(text: string): string {
  return NON_ASCII.test(text) ? text.normalize('NFC') : text;
}

export function isUserId(text: string): boolean {
  // One regex for the characters on the way of every point; userIdProblem says which rule failed.
  return text.isWellFormed() && !REFUSED_CHARACTER.test(text) && text !== '.' && text !== '..';
}

/** Whether `text` can begin a user id: the characters of one, without the rules for a whole id. */
export function isUserIdPrefix(text: string): boolean {
  return text.isWellFormed() && !REFUSED_CHARACTER.test(text);
}

/**
 * Ajv with Locus's string formats. Bodies are validated strictly (a number sent as a string is an error, not a
 * number); query strings are all text, so they are coerced.
 */
export function createAjv(mode: 'strict' | 'coerce'): Ajv {
  const options: Options = {
    allErrors: true,
    verbose: true,
    coerceTypes: mode === 'coerce',
    useDefaults: mode === 'coerce',
    removeAdditional: false,
    strict: true,
    // A property a body inherits is not one it sent.
    ownProperties: true,
  };
  const ajv = new Ajv(options);
  ajv.addFormat('device-timestamp', { type: 'string', validate: (text) => parseTimestamp(text).ok });
  ajv.addFormat('instant', { type: 'string', validate: (text) => parseInstant(text) !== null });
  ajv.addFormat('user-id', { type: 'string', validate: isUserId });
  ajv.addFormat('user-id-prefix', { type: 'string', validate: isUserIdPrefix });
  ajv.addKeyword('example');
  return ajv;
}
