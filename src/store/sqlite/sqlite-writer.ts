/*
 * The SQLite writer thread. A commit with synchronous=FULL waits for the disk (an fsync per transaction, plus
 * checkpoints), and better-sqlite3 is synchronous: on the main thread that wait would stop every request from
 * being read or answered. Here it only holds up the next transaction, while the main thread keeps serving and
 * gathers the next group of points.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import {
  createIngestBatch,
  openDatabase,
  prepareStatements,
  type IngestBatch,
  type SqliteStoreOptions,
} from './sqlite-db.js';
import { checkDatabaseFiles, checkDatabaseFilesInPlace, checkSharedMemoryWritable } from './sqlite-files.js';
import { packOutcomes, unpackPoints } from './sqlite-ingest-packing.js';
import type { WriterOutcomes, WriterRequest } from './sqlite-writer-protocol.js';
import { errorReply } from './sqlite-thread.js';

const port = parentPort;
if (!port) throw new Error('sqlite-writer.ts runs only as a worker thread');

const options = workerData as SqliteStoreOptions;
const files = options.files ?? [];

interface Writer {
  db: Database.Database;
  ingestBatch: IngestBatch;
}

/*
 * Checked before opening: a thread started after the file was deleted would otherwise create a new, empty one
 * at the path and write there. Opened again by the next ingest when that failed, so the failure is answered (and
 * logged) as that ingest's, with its SQLite code.
 */
function open(): Writer {
  checkDatabaseFiles(options.path, files);
  const db = openDatabase(options, 'other');
  return { db, ingestBatch: createIngestBatch(db, prepareStatements(db)) };
}

let writer: Writer | null = null;
try {
  writer = open();
} catch {
  // reported to the first ingest, which tries again
}

port.on('message', (request: WriterRequest) => {
  if (request.type === 'close') {
    writer?.db.close();
    port.close();
    return;
  }
  try {
    writer ??= open();
    // Before: nothing is written through an unwritable -shm (a SIGBUS). After: no point is answered stored whose
    // files were moved or deleted meanwhile (sqlite-files.ts).
    checkSharedMemoryWritable(options.path);
    const outcomes = packOutcomes(writer.ingestBatch(unpackPoints(request.points)));
    checkDatabaseFilesInPlace(files);
    port.postMessage({ id: request.id, outcomes } satisfies WriterOutcomes, [outcomes.buffer]);
  } catch (error) {
    port.postMessage(errorReply(request.id, error));
  }
});
