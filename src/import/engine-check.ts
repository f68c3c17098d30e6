import { prepareWithNullableExtras } from '../ingest/apps/nullable-extras.js';
import type { PrepareOptions } from '../ingest/compose.js';
import type { Point, Result } from '../ingest/point.js';
import type { ImportFix } from './types.js';

/**
 * An imported fix as a store point: the PUT /location rules with accuracy and speed allowed to be null, exactly
 * as POST /locations applies them, so an import straight into the database and one through the API agree.
 */
export function checkFix(fix: ImportFix, options: PrepareOptions = {}): Result<Point> {
  return prepareWithNullableExtras(fix, options);
}
