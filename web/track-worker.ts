/*
 * Fetches and parses GeoJSON exports off the page's main thread: parsing 100,000 minutes (about 19 MB of JSON)
 * takes long enough to freeze the page. The columns come back as transferred typed arrays, without a copy.
 */
/// <reference lib="webworker" />
import { TRACK_COLUMNS, trackFromGeoJson } from './track.js';
import type { WorkerReply, WorkerRequest } from './track-protocol.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const inFlight = new Map<number, AbortController>();

async function problemDetail(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { detail?: unknown };
    return typeof body.detail === 'string' ? body.detail : `${response.status} ${response.statusText}`;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

async function load(id: number, url: string): Promise<WorkerReply> {
  const controller = new AbortController();
  inFlight.set(id, controller);
  try {
    const response = await fetch(url, { signal: controller.signal });
    if (!response.ok) return { id, error: await problemDetail(response) };
    return { id, track: trackFromGeoJson(await response.json()) };
  } catch (error) {
    return {
      id,
      error: error instanceof Error ? error.message : String(error),
      aborted: controller.signal.aborted,
    };
  } finally {
    inFlight.delete(id);
  }
}

scope.addEventListener('message', (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === 'abort') {
    inFlight.get(request.id)?.abort();
    return;
  }
  void load(request.id, request.url).then((reply) => {
    const transfer = reply.track ? TRACK_COLUMNS.map((c) => reply.track![c].buffer) : [];
    scope.postMessage(reply, transfer);
  });
});
