/** Messages between the page and track-worker.ts. */
import type { Track } from './track.js';

export type WorkerRequest = { type: 'load'; id: number; url: string } | { type: 'abort'; id: number };

export interface WorkerReply {
  id: number;
  track?: Track;
  error?: string;
  /** The page asked to stop this load. */
  aborted?: boolean;
}
