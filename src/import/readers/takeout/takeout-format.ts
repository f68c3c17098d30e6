import type { FormatDescriptor } from '../../types.js';
import type { FileHead } from '../file-head.js';
import type { JsonSignal } from '../json-head.js';

/** Google Takeout `Records.json`: a `locations` array whose first record has E7 coordinates. */
export const TAKEOUT_FORMAT: FormatDescriptor<'takeout'> = {
  format: 'takeout',
  detect: (head: FileHead) => head.jsonEvidence(saysTakeout),
  load: () => import('./takeout-reader.js').then((reader) => reader.readTakeout),
};

function saysTakeout({ key, itemKey }: JsonSignal): boolean {
  return key === 'locations' && (itemKey === 'latitudeE7' || itemKey === 'longitudeE7');
}
