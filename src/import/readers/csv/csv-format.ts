import type { FormatDescriptor } from '../../types.js';
import type { FileHead } from '../file-head.js';
import { CSV_REQUIRED_COLUMNS } from './csv-columns.js';

/** Challenge CSV: a header line with the challenge columns. */
export const CSV_FORMAT: FormatDescriptor<'csv'> = {
  format: 'csv',
  detect: headerEnd,
  load: () => import('./csv-reader.js').then((reader) => reader.readCsv),
};

/**
 * Just after the first line, when it is a header with the challenge columns, in any order, quoted or not, with
 * spaces. The evidence is the whole line, so a line that is also a Recorder line (whose evidence ends at its JSON's
 * `{`) is read as one. Content that starts like XML or JSON is neither.
 */
function headerEnd(head: FileHead): number | null {
  if (head.first === '<' || head.first === '{') return null;
  const line = head.firstLine();
  if (!line.text.includes(',')) return null;
  const names = new Set(
    line.text.split(',').map((cell) =>
      cell
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .trim(),
    ),
  );
  return CSV_REQUIRED_COLUMNS.every((name) => names.has(name)) ? line.end + 1 : null;
}
