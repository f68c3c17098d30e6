import type { PackedPoints } from './sqlite-ingest-packing.js';
import type { ThreadReply } from './sqlite-thread.js';

/** Main thread → writer thread. The points' buffer is transferred, not copied (see sqlite-ingest-packing.ts). */
export type WriterRequest = { type: 'ingest'; id: number; points: PackedPoints } | { type: 'close' };

/** Writer thread → main thread: the packed outcomes of one ingest (transferred); a failure is a ThreadReply's error. */
export interface WriterOutcomes extends ThreadReply {
  outcomes: Uint8Array;
}
