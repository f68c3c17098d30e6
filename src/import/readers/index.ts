import type { FormatDescriptor, FormatReader, ReaderSettings } from '../types.js';
import { CSV_FORMAT } from './csv/csv-format.js';
import { FileHead } from './file-head.js';
import { GEOJSON_FORMAT } from './geojson/geojson-format.js';
import { GPX_FORMAT } from './gpx/gpx-format.js';
import { OWNTRACKS_REC_FORMAT } from './owntracks-rec/owntracks-rec-format.js';
import { TAKEOUT_FORMAT } from './takeout/takeout-format.js';

/*
 * The formats `locus import` reads, one line each. A format is a folder here: its descriptor (`<name>-format.ts`:
 * its name, how to recognise it, its reader loaded on demand), its reader and the reader's test. The order is the
 * one `--format` lists them in, and breaks a tie between two formats' evidence (none do today).
 */
const FORMATS = [GPX_FORMAT, GEOJSON_FORMAT, CSV_FORMAT, OWNTRACKS_REC_FORMAT, TAKEOUT_FORMAT] as const;

export type ImportFormat = (typeof FORMATS)[number]['format'];

export const IMPORT_FORMATS: readonly ImportFormat[] = FORMATS.map((descriptor) => descriptor.format);

/**
 * The format of a file from its first bytes, or null when it is none that `locus import` reads. The content
 * decides, never the name: a `.json` may hold GeoJSON or Takeout, and `--format` (the caller's job) overrides.
 */
export function detectFormat(bytes: Buffer): ImportFormat | null {
  const head = new FileHead(bytes);
  let found: { format: ImportFormat; at: number } | null = null;
  for (const descriptor of FORMATS) {
    const at = descriptor.detect(head);
    if (at !== null && (found === null || at < found.at)) found = { format: descriptor.format, at };
  }
  return found?.format ?? null;
}

/** The reader of a format, with its parser: loaded on the first call for that format. */
export function loadReader(format: ImportFormat, settings: ReaderSettings): Promise<FormatReader> {
  const descriptor: FormatDescriptor = FORMATS.find((candidate) => candidate.format === format)!;
  return descriptor.load(settings);
}
