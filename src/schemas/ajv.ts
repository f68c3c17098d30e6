import { Ajv, type Options } from 'ajv';
import { parseTimestamp, parseInstant } from '../ingest/timestamp.js';

// C0 controls, DEL and C1 controls: matching them is the point.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

export function isUserId(text: string): boolean {
  return text.isWellFormed() && !CONTROL_CHARACTER.test(text);
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
  ajv.addKeyword('example');
  return ajv;
}
