/*
 * GPX 1.1 export: one trk with one trkseg, a trkpt per minute. The schema (topografix.com/GPX/1/1/gpx.xsd) is
 * stricter than GPX readers: `lon` must be below 180 (so 180 is written -180), numbers are xsd:decimal (no
 * exponent), and the order of a trkpt's children is fixed. Accuracy, speed and samples have no GPX 1.1 element
 * (speed was dropped after 1.0), so they go in `extensions` under Locus's own namespace, which the schema admits
 * without checking.
 */
import { isoMinute } from './chunks.js';
import type { ExportMinute } from './minutes.js';

export const GPX_MEDIA_TYPE = 'application/gpx+xml';
export const GPX_NAMESPACE = 'http://www.topografix.com/GPX/1/1';
export const LOCUS_GPX_NAMESPACE = 'urn:x-locus:gpx:1';

export interface GpxOptions {
  userId: string;
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/**
 * Text safe in XML content and attributes. U+FFFE and U+FFFF are allowed in a user id but are not XML characters;
 * they become U+FFFD. (Control characters and lone surrogates never reach here: user ids exclude them.)
 */
export function xmlText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c).replace(/[\uFFFE\uFFFF]/g, '\uFFFD');
}

/** An xsd:decimal: JavaScript writes 1e-7 for 0.0000001, which the schema refuses. */
export function xsdDecimal(value: number): string {
  const text = String(value + 0); // + 0 turns -0 into 0
  if (!/e/i.test(text)) return text;
  return value.toFixed(20).replace(/\.?0+$/, '');
}

/** GPX longitudes are in [-180, 180): the antimeridian is written as -180. */
export function gpxLongitude(long: number): number {
  return long >= 180 ? long - 360 : long;
}

function extensions(minute: ExportMinute): string {
  const parts = [
    minute.accuracy === null ? '' : `<locus:accuracy>${xsdDecimal(minute.accuracy)}</locus:accuracy>`,
    minute.speed === null ? '' : `<locus:speed>${xsdDecimal(minute.speed)}</locus:speed>`,
    `<locus:samples>${minute.samples}</locus:samples>`,
  ];
  return `<extensions>${parts.join('')}</extensions>`;
}

function trackPoint(minute: ExportMinute): string {
  const lat = xsdDecimal(minute.lat);
  const lon = xsdDecimal(gpxLongitude(minute.long));
  return `      <trkpt lat="${lat}" lon="${lon}"><time>${isoMinute(minute.minuteMs)}</time>${extensions(minute)}</trkpt>\n`;
}

function header(userId: string): string {
  const name = xmlText(userId);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<gpx version="1.1" creator="Locus" xmlns="${GPX_NAMESPACE}" xmlns:locus="${LOCUS_GPX_NAMESPACE}"`,
    '  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
    `  xsi:schemaLocation="${GPX_NAMESPACE} ${GPX_NAMESPACE}/gpx.xsd">`,
    `  <metadata><name>Locus: ${name}</name><desc>One-minute averages, UTC</desc></metadata>`,
    `  <trk><name>${name}</name>`,
    '    <trkseg>',
    '',
  ].join('\n');
}

/** A GPX 1.1 document as a stream of text chunks (one per page). */
export async function* gpx(
  pages: AsyncIterable<readonly ExportMinute[]>,
  options: GpxOptions,
): AsyncGenerator<string> {
  yield header(options.userId);
  for await (const page of pages) yield page.map(trackPoint).join('');
  yield '    </trkseg>\n  </trk>\n</gpx>\n';
}
