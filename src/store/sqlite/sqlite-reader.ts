/*
 * A SQLite reader thread. better-sqlite3 is synchronous: a read of a long history on the main thread (an export
 * page, a track of a million minutes) would stop every request from being read or answered meanwhile. Here it
 * only holds up the reads queued behind it on this thread.
 */
import { parentPort, workerData, type TransferListItem } from 'node:worker_threads';
import { openDatabase, type SqliteStoreOptions } from './sqlite-db.js';
import { checkDatabaseFiles, checkSharedMemoryWritable } from './sqlite-files.js';
import { packMinutePage, packTrack } from './sqlite-read-packing.js';
import { SqliteReads, type ReadRequest } from './sqlite-reads.js';
import { errorReply } from './sqlite-thread.js';

const port = parentPort;
if (!port) throw new Error('sqlite-reader.ts runs only as a worker thread');

const options = workerData as SqliteStoreOptions;
let reads: SqliteReads | null = null;

/** The answer as it crosses: pages and tracks packed into a transferred buffer, the rest cloned. */
function answer(request: ReadRequest): { result: unknown; transfer: TransferListItem[] } {
  // Checked before opening, as the writer does: a thread started after the file was deleted would otherwise create
  // a new, empty database at the path and answer from it.
  if (reads === null) checkDatabaseFiles(options.path, options.files ?? []);
  reads ??= new SqliteReads(openDatabase(options, 'other'));
  switch (request.op) {
    case 'minutes': {
      const packed = packMinutePage(reads.run(request));
      return { result: packed, transfer: packed ? [packed.values.buffer as ArrayBuffer] : [] };
    }
    case 'track': {
      const packed = packTrack(reads.run(request));
      return { result: packed, transfer: packed ? [packed.buffer as ArrayBuffer] : [] };
    }
    default:
      return { result: reads.run(request), transfer: [] };
  }
}

port.on('message', (message: (ReadRequest & { id: number }) | { type: 'close' }) => {
  if ('type' in message) {
    reads?.close();
    port.close();
    return;
  }
  try {
    // Reading writes to the -shm too: an unwritable one would be a SIGBUS (sqlite-files.ts).
    checkSharedMemoryWritable(options.path);
    const { result, transfer } = answer(message);
    port.postMessage({ id: message.id, result }, transfer);
  } catch (error) {
    port.postMessage(errorReply(message.id, error));
  }
});
