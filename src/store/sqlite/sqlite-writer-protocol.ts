import type { PackedPoints } from './sqlite-ingest-packing.js';

/** Main thread → writer thread. The points' buffer is transferred, not copied (see sqlite-ingest-packing.ts). */
export type WriterRequest = { type: 'ingest'; id: number; points: PackedPoints } | { type: 'close' };

/** Writer thread → main thread: the packed outcomes of one ingest (transferred), or why it failed. */
export type WriterReply =
  | { id: number; outcomes: Uint8Array; error?: undefined }
  | { id: number; error: { code: string | undefined; message: string } };
