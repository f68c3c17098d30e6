import type { ImportDeps } from './engine.js';
import { detectFormat, loadReader } from './readers/index.js';
import { openImportSource } from './source.js';
import type { ReaderSettings } from './types.js';

/*
 * The engine's dependencies for real files: opened (and gunzipped) by source.ts, recognised and read by the formats
 * that readers/index.ts lists.
 */

export function importDeps(settings: ReaderSettings = { owntracksUserId: 'user' }): ImportDeps {
  return {
    async open(path) {
      const source = await openImportSource(path);
      return { input: source.stream, head: source.head, bytesRead: () => source.bytesRead() };
    },
    detect: (head) => detectFormat(head),
    reader: (format) =>
      async function* (input, context) {
        const read = await loadReader(format, settings);
        yield* read(input, context);
      },
  };
}

export const IMPORT_DEPS: ImportDeps = importDeps();
