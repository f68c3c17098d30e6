import type { FormatDescriptor } from '../../types.js';
import type { FileHead } from '../file-head.js';

/** GPX: XML whose root element is <gpx>. The reader loads saxes. */
export const GPX_FORMAT: FormatDescriptor<'gpx'> = {
  format: 'gpx',
  detect: gpxRootAt,
  load: () => import('./gpx-reader.js').then((reader) => reader.readGpx),
};

/** Where the root element starts, when it is <gpx>: after the XML declaration, comments, PIs and a DOCTYPE. */
function gpxRootAt(head: FileHead): number | null {
  const text = head.text;
  if (head.first !== '<') return null;
  let i = head.start;
  for (;;) {
    i = head.skipWhitespace(i);
    if (text.startsWith('<?', i)) i = afterToken(text, i, '?>');
    else if (text.startsWith('<!--', i)) i = afterToken(text, i + 4, '-->');
    else if (text.startsWith('<!DOCTYPE', i)) i = afterToken(text, i, '>');
    else break;
    if (i === -1) return null;
  }
  // A namespace prefix (`<gpx:gpx`) is legal XML, if rare.
  return /^<(?:[A-Za-z_][\w.-]*:)?gpx[\s/>]/.test(text.slice(i, i + 64)) ? i : null;
}

function afterToken(text: string, from: number, token: string): number {
  const end = text.indexOf(token, from);
  return end === -1 ? -1 : end + token.length;
}
