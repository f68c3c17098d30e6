import { csv, CSV_MEDIA_TYPE } from './csv.js';
import { geojson, GEOJSON_MEDIA_TYPE } from './geojson.js';
import { gpx, GPX_MEDIA_TYPE } from './gpx.js';
import type { MinuteReader } from './minutes.js';

export const EXPORT_FORMATS = ['geojson', 'csv', 'gpx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportFormatInfo {
  mediaType: string;
  /** Content-Type as sent: text types say their charset; XML says it in its declaration too. */
  contentType: string;
  extension: string;
}

export const EXPORT_FORMAT_INFO: Readonly<Record<ExportFormat, ExportFormatInfo>> = {
  geojson: { mediaType: GEOJSON_MEDIA_TYPE, contentType: GEOJSON_MEDIA_TYPE, extension: 'geojson' },
  // RFC 4180 §3 and RFC 7111: the header parameter tells spreadsheet importers the first line names the columns.
  csv: {
    mediaType: CSV_MEDIA_TYPE,
    contentType: `${CSV_MEDIA_TYPE}; charset=utf-8; header=present`,
    extension: 'csv',
  },
  gpx: { mediaType: GPX_MEDIA_TYPE, contentType: `${GPX_MEDIA_TYPE}; charset=utf-8`, extension: 'gpx' },
};

export function isExportFormat(text: string): text is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(text);
}

/** The export of one user's minutes in `format`, as a stream of text chunks. */
export function exportChunks(
  format: ExportFormat,
  read: MinuteReader,
  userId: string,
): AsyncGenerator<string> {
  switch (format) {
    case 'geojson':
      return geojson(read, { userId });
    case 'csv':
      return csv(read());
    case 'gpx':
      return gpx(read(), { userId });
  }
}
