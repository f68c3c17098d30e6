import type { OwnTracksUserIdMode } from '../ingest/apps/owntracks.js';
import { detectFormat } from './detect.js';
import type { ImportDeps } from './engine.js';
import { openImportSource } from './source.js';
import type { FormatReader, ImportFormat } from './types.js';

/*
 * The real formats behind the engine: files opened (and gunzipped) by source.ts, recognised by detect.ts, read by
 * the reader of their format. Each reader's module is loaded when a file of its format comes, so importing CSV
 * never loads the XML parser.
 */

export interface RegistryOptions {
  /** Whose points a Recorder `.rec` file holds: its USER, or USER/DEVICE (OWNTRACKS_USER_ID, as for live ones). */
  owntracksUserId?: OwnTracksUserIdMode;
}

function loaders(options: RegistryOptions): Record<ImportFormat, () => Promise<FormatReader>> {
  return {
    gpx: () => import('./readers/gpx.js').then((m) => m.readGpx),
    geojson: () => import('./readers/geojson.js').then((m) => m.readGeoJson),
    csv: () => import('./readers/csv.js').then((m) => m.readCsv),
    'owntracks-rec': () =>
      import('./readers/owntracks-rec.js').then((m) =>
        m.ownTracksRecReader(options.owntracksUserId ?? 'user'),
      ),
    takeout: () => import('./readers/takeout.js').then((m) => m.readTakeout),
  };
}

export function importDeps(options: RegistryOptions = {}): ImportDeps {
  const load = loaders(options);
  return {
    async open(path) {
      const source = await openImportSource(path);
      return { input: source.stream, head: source.head, bytesRead: () => source.bytesRead() };
    },
    detect: detectFormat,
    reader: (format) =>
      async function* (input, context) {
        const read = await load[format]();
        yield* read(input, context);
      },
  };
}

export const IMPORT_DEPS: ImportDeps = importDeps();
