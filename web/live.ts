/*
 * The server's live feed (Server-Sent Events). `ready` opens every connection, reconnections included: the page
 * then reads its list again, since changes made while it was away were not sent. `users` carries only the users
 * that changed since the last event.
 */
import { parseUsers, type UserSummary } from './user-pages.js';

export type LiveStatus = 'connecting' | 'open' | 'reconnecting';

export interface LiveHandlers {
  onReady(): void;
  onUsers(users: UserSummary[]): void;
  onStatus(status: LiveStatus): void;
}

/**
 * The browser reconnects by itself when a connection drops, but gives up for good when the server refuses one
 * (503 at the server's stream cap, 429 at the token's): the page then tries again itself, backing off.
 */
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 60_000;

export function connectLive(url: string, handlers: LiveHandlers): void {
  let retryMs = FIRST_RETRY_MS;
  const open = () => {
    const source = new EventSource(url);
    handlers.onStatus('connecting');
    source.addEventListener('open', () => {
      retryMs = FIRST_RETRY_MS;
      handlers.onStatus('open');
    });
    source.addEventListener('ready', () => handlers.onReady());
    source.addEventListener('users', (event) => {
      handlers.onUsers(parseUsers(JSON.parse((event as MessageEvent<string>).data)));
    });
    source.addEventListener('error', () => {
      handlers.onStatus('reconnecting');
      if (source.readyState !== EventSource.CLOSED) return;
      setTimeout(open, retryMs);
      retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
    });
  };
  open();
}
