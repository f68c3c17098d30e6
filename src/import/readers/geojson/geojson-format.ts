import type { FormatDescriptor } from '../../types.js';
import type { FileHead } from '../file-head.js';
import type { JsonSignal } from '../json-head.js';

/**
 * GeoJSON: a top-level `"type": "FeatureCollection"` or `"Feature"`, or a `features` array of Features (for when
 * `type` comes last), or an Overland batch: a `locations` array of Features.
 */
export const GEOJSON_FORMAT: FormatDescriptor<'geojson'> = {
  format: 'geojson',
  detect: (head: FileHead) => head.jsonEvidence(saysGeoJson),
  load: () => import('./geojson-reader.js').then((reader) => reader.readGeoJson),
};

function saysGeoJson({ key, itemKey, value }: JsonSignal): boolean {
  if (itemKey === undefined) return key === 'type' && (value === 'FeatureCollection' || value === 'Feature');
  return (key === 'features' || key === 'locations') && itemKey === 'type' && value === 'Feature';
}
