/*
 * The SQLite writer thread. A commit with synchronous=FULL waits for the disk (an fsync per transaction, plus
 * checkpoints), and better-sqlite3 is synchronous: on the main thread that wait would stop every request from
 * being read or answered. Here it only holds up the next transaction, while the main thread keeps serving and
 * gathers the next group of points.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createIngestBatch, openDatabase, prepareStatements, type SqliteStoreOptions } from './sqlite-db.js';
import { packOutcomes, unpackPoints } from './sqlite-ingest-packing.js';
import type { WriterReply, WriterRequest } from './sqlite-writer-protocol.js';

const port = parentPort;
if (!port) throw new Error('sqlite-writer.ts runs only as a worker thread');

const db = openDatabase(workerData as SqliteStoreOptions, 'writer');
const ingestBatch = createIngestBatch(db, prepareStatements(db));

function errorReply(id: number, error: unknown): WriterReply {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return {
    id,
    error: { code: typeof code === 'string' ? code : undefined, message: String(message ?? error) },
  };
}

port.on('message', (request: WriterRequest) => {
  if (request.type === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    const outcomes = packOutcomes(ingestBatch(unpackPoints(request.points)));
    port.postMessage({ id: request.id, outcomes } satisfies WriterReply, [outcomes.buffer]);
  } catch (error) {
    port.postMessage(errorReply(request.id, error));
  }
});
