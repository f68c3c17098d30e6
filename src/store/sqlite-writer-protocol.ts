import type { IngestOutcome, Point } from '../pipeline/types.js';

/** Main thread → writer thread. */
export type WriterRequest = { type: 'ingest'; id: number; points: readonly Point[] } | { type: 'close' };

/** Writer thread → main thread: the outcomes of one ingest, or why it failed. */
export type WriterReply =
  | { id: number; outcomes: IngestOutcome[]; error?: undefined }
  | { id: number; error: { code: string | undefined; message: string } };
