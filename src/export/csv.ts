import { stringify } from 'csv-stringify/sync';
import { isoMinute } from './chunks.js';
import type { ExportMinute } from './minutes.js';

export const CSV_MEDIA_TYPE = 'text/csv';
export const CSV_EXPORT_COLUMNS = ['minute', 'lat', 'long', 'accuracy', 'speed', 'samples'] as const;

// RFC 4180: CRLF after every record, the header included; null (not reported) is an empty field.
const OPTIONS = { record_delimiter: 'windows' } as const;

function record(minute: ExportMinute): Array<string | number | null> {
  return [isoMinute(minute.minuteMs), minute.lat, minute.long, minute.accuracy, minute.speed, minute.samples];
}

/** `minute,lat,long,accuracy,speed,samples`, one record per minute, as a stream of text chunks (one per page). */
export async function* csv(pages: AsyncIterable<readonly ExportMinute[]>): AsyncGenerator<string> {
  yield stringify([[...CSV_EXPORT_COLUMNS]], OPTIONS);
  for await (const page of pages) yield stringify(page.map(record), OPTIONS);
}
