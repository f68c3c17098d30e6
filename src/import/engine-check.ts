import { prepareWithNullableExtras } from '../pipeline/formats/nullable-extras.js';
import type { PrepareOptions } from '../pipeline/prepare.js';
import type { Point, Result } from '../pipeline/types.js';
import type { ImportFix } from './types.js';

/**
 * An imported fix as a store point: the PUT /location rules with accuracy and speed allowed to be null, exactly
 * as POST /locations applies them, so an import straight into the database and one through the API agree.
 */
export function checkFix(fix: ImportFix, options: PrepareOptions = {}): Result<Point> {
  return prepareWithNullableExtras(fix, options);
}
