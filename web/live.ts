/** The server's live feed (Server-Sent Events); the browser reconnects by itself when it drops. */
import type { UserSummary } from './api.js';

export type LiveStatus = 'connecting' | 'open' | 'reconnecting';

export function connectLive(
  url: string,
  onUsers: (users: UserSummary[]) => void,
  onStatus: (status: LiveStatus) => void,
): EventSource {
  const source = new EventSource(url);
  onStatus('connecting');
  source.addEventListener('open', () => onStatus('open'));
  source.addEventListener('error', () =>
    onStatus(source.readyState === EventSource.CLOSED ? 'connecting' : 'reconnecting'),
  );
  source.addEventListener('users', (event) => {
    const body = JSON.parse((event as MessageEvent<string>).data) as { users: UserSummary[] };
    onUsers(body.users);
  });
  return source;
}
