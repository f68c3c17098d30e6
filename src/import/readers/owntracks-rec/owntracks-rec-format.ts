import type { FormatDescriptor } from '../../types.js';
import type { FileHead } from '../file-head.js';

// `2017-01-01T18:05:12Z<TAB>*                 <TAB>{"_type":…}` (the tag is padded to 18).
const REC_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\t[^\t\r\n]*\t[ ]*\{/;

/** OwnTracks Recorder `.rec` files: lines of ISO UTC time, TAB, tag, TAB, JSON. */
export const OWNTRACKS_REC_FORMAT: FormatDescriptor<'owntracks-rec'> = {
  format: 'owntracks-rec',
  detect: recLineEnd,
  load: (settings) =>
    import('./owntracks-rec-reader.js').then((reader) => reader.ownTracksRecReader(settings.owntracksUserId)),
};

/** Where the first line's evidence ends (its JSON's `{`), when it is a Recorder line. */
function recLineEnd(head: FileHead): number | null {
  const match = REC_LINE.exec(head.firstLine().text);
  return match === null ? null : head.start + match[0].length;
}
