import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compareIds,
  mergeUsers,
  newerSummary,
  parseUserPage,
  parseUsers,
  UserPager,
  type UserListView,
  type UserPageAnswer,
  type UserPageQuery,
  type UserSummary,
} from '../../web/user-pages.js';

function user(id: string, samples = 1): UserSummary {
  return {
    user_id: id,
    minutes: samples,
    samples,
    first_minute: '2017-01-01T00:00:00.000Z',
    last_minute: '2017-01-01T00:00:00.000Z',
  };
}

const ids = (users: readonly UserSummary[]) => users.map((u) => u.user_id);

describe('compareIds', () => {
  it('orders by code point, as the server pages (not by UTF-16 code unit)', () => {
    const sorted = ['a', 'ab', 'b', 'é', '\uffff', '😀'];
    assert.deepEqual([...sorted].reverse().sort(compareIds), sorted);
    assert.ok('😀' < '\uffff', 'JavaScript alone would put the emoji first');
    assert.equal(compareIds('x', 'x'), 0);
  });
});

describe('mergeUsers', () => {
  const shown = [user('b'), user('d'), user('f')];

  it('updates the users shown, keeping the others as they were', () => {
    const merged = mergeUsers(shown, [user('d', 5)], '', false);
    assert.deepEqual(ids(merged), ['b', 'd', 'f']);
    assert.equal(merged[1]!.samples, 5);
    assert.equal(merged[0], shown[0], 'unchanged users keep their object (their row is reused)');
  });

  it('inserts a new user in order when it sorts within the loaded range', () => {
    assert.deepEqual(ids(mergeUsers(shown, [user('e'), user('a'), user('c')], '', false)), [
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
    ]);
  });

  it('leaves a user after the last loaded one to the next page, unless there is none', () => {
    assert.deepEqual(ids(mergeUsers(shown, [user('g')], '', false)), ['b', 'd', 'f']);
    assert.deepEqual(ids(mergeUsers(shown, [user('g')], '', true)), ['b', 'd', 'f', 'g']);
    assert.deepEqual(ids(mergeUsers([], [user('g')], '', false)), []);
    assert.deepEqual(ids(mergeUsers([], [user('g')], '', true)), ['g']);
  });

  it('inserts only users with the prefix', () => {
    const list = [user('ua'), user('uc')];
    assert.deepEqual(ids(mergeUsers(list, [user('ub'), user('b'), user('uz'), user('v')], 'u', true)), [
      'ua',
      'ub',
      'uc',
      'uz',
    ]);
  });

  it('keeps the newer summary, whichever arrives last, and one row per user', () => {
    const merged = mergeUsers(
      [user('d', 9)],
      [user('d', 3), user('c', 2), user('c', 7), user('c', 4)],
      '',
      true,
    );
    assert.deepEqual(
      merged.map((u) => [u.user_id, u.samples]),
      [
        ['c', 7],
        ['d', 9],
      ],
    );
    assert.equal(newerSummary(user('x', 2), user('x', 2)).samples, 2);
  });
});

describe('parseUsers and parseUserPage', () => {
  it('take the bodies of GET /users and of a live users event', () => {
    assert.deepEqual(parseUsers({ users: [user('a')] }), [user('a')]);
    assert.deepEqual(parseUserPage({ users: [], next_cursor: 'dTph' }), { users: [], next_cursor: 'dTph' });
  });

  it('refuse anything else', () => {
    assert.throws(() => parseUsers({ users: [{ user_id: 1 }] }), /not a list of users/);
    assert.throws(() => parseUsers(null), /not a list of users/);
    assert.throws(() => parseUserPage({ users: [] }), /next_cursor/);
  });
});

/** A server holding `users`, whose answers the test releases one by one. */
class FakeServer {
  readonly requests: Array<{ query: UserPageQuery; signal: AbortSignal; answer: () => void }> = [];
  users: UserSummary[];

  constructor(users: UserSummary[]) {
    this.users = [...users].sort((a, b) => compareIds(a.user_id, b.user_id));
  }

  fetchPage = (query: UserPageQuery, signal: AbortSignal): Promise<UserPageAnswer> =>
    new Promise((resolve, reject) => {
      signal.addEventListener('abort', () =>
        reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
      );
      // The page is read when the answer is released, as a server reads when it answers.
      const answer = () => resolve(this.#page(query));
      this.requests.push({ query, signal, answer });
    });

  #page(query: UserPageQuery): UserPageAnswer {
    const after = query.cursor === undefined ? undefined : atob(query.cursor);
    const matching = this.users.filter(
      (u) => u.user_id.startsWith(query.prefix) && (after === undefined || compareIds(u.user_id, after) > 0),
    );
    const page = matching.slice(0, query.limit);
    const more = matching.length > query.limit;
    return { users: page, next_cursor: more ? btoa(page.at(-1)!.user_id) : null };
  }

  /** Releases the last request's answer and lets the pager take it. */
  async answerLast(): Promise<void> {
    this.requests.at(-1)!.answer();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function pager(server: FakeServer, pageSize = 2) {
  const views: UserListView[] = [];
  const errors: Error[] = [];
  const pages = new UserPager({
    fetchPage: server.fetchPage,
    onView: (view) => views.push(view),
    onError: (error) => errors.push(error),
    debounceMs: 5,
    pageSize,
  });
  return { pages, views, errors };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('UserPager', () => {
  const everyone = ['ann', 'bob', 'bea', 'cy', 'dan'].map((id) => user(id));

  it('loads page by page from the cursor, and says when there is more', async () => {
    const server = new FakeServer(everyone);
    const { pages, views } = pager(server);
    const loaded = pages.reload();
    assert.equal(views.at(-1)?.loading, true);
    await server.answerLast();
    await loaded;
    assert.deepEqual(ids(pages.view.users), ['ann', 'bea']);
    assert.equal(pages.view.more, true);
    const more = pages.more();
    void pages.more(); // a second one while the first is on its way is dropped
    assert.equal(server.requests.length, 2);
    await server.answerLast();
    await more;
    const last = pages.more();
    await server.answerLast();
    await last;
    assert.deepEqual(ids(pages.view.users), ['ann', 'bea', 'bob', 'cy', 'dan']);
    assert.equal(pages.view.more, false);
    await pages.more();
    assert.equal(server.requests.length, 3, 'no request past the last page');
  });

  it('searches on the server once typing pauses, dropping the answer to older text', async () => {
    const server = new FakeServer(everyone);
    const { pages } = pager(server);
    pages.search('b');
    await pause(20);
    const first = server.requests.at(-1)!;
    assert.deepEqual(first.query, { limit: 2, prefix: 'b' });
    pages.search('be');
    assert.ok(first.signal.aborted, 'the previous request is aborted at the next keystroke');
    pages.search('bo');
    await pause(20);
    assert.equal(server.requests.length, 2, 'one request for the pause, not one per keystroke');
    await server.answerLast();
    assert.deepEqual(ids(pages.view.users), ['bob']);
    assert.equal(pages.view.prefix, 'bo');
  });

  it('sends the prefix in NFC, as the ids are stored', async () => {
    const server = new FakeServer([user('\u00e9mile')]);
    const { pages } = pager(server);
    pages.search('e\u0301');
    await pause(20);
    await server.answerLast();
    assert.deepEqual(ids(pages.view.users), ['\u00e9mile']);
  });

  it('reloads as many users as are shown, in one request', async () => {
    const server = new FakeServer(everyone);
    const { pages } = pager(server);
    const loaded = pages.reload();
    await server.answerLast();
    await loaded;
    const more = pages.more();
    await server.answerLast();
    await more;
    const again = pages.reload();
    assert.deepEqual(server.requests.at(-1)!.query, { limit: 4, prefix: '' });
    await server.answerLast();
    await again;
    assert.deepEqual(ids(pages.view.users), ['ann', 'bea', 'bob', 'cy']);
  });

  it('does a pending search at once when the list is reloaded, instead of losing it', async () => {
    const server = new FakeServer(everyone);
    const { pages } = pager(server);
    pages.search('c');
    const reloaded = pages.reload();
    assert.deepEqual(server.requests.at(-1)!.query, { limit: 2, prefix: 'c' });
    await server.answerLast();
    await reloaded;
    await pause(20);
    assert.equal(server.requests.length, 1, 'the debounced search does not follow');
    assert.deepEqual(ids(pages.view.users), ['cy']);
  });

  it('merges live changes, including those that arrive while a page is on its way', async () => {
    const server = new FakeServer(everyone);
    const { pages } = pager(server, 10);
    const loaded = pages.reload();
    // The server read its answer before these changed: the answer alone would lose them.
    const answer = server.requests.at(-1)!;
    pages.applyChanges([user('bob', 7), user('eve', 1)]);
    answer.answer();
    await loaded;
    assert.deepEqual(
      pages.view.users.map((u) => [u.user_id, u.samples]),
      [
        ['ann', 1],
        ['bea', 1],
        ['bob', 7],
        ['cy', 1],
        ['dan', 1],
        ['eve', 1],
      ],
    );
    pages.applyChanges([user('cy', 3)]);
    assert.equal(pages.summary('cy')?.samples, 3);
  });

  it('reports a failed request, and keeps what it showed', async () => {
    const server = new FakeServer(everyone);
    const { pages, errors } = pager(server);
    const loaded = pages.reload();
    await server.answerLast();
    await loaded;
    const failing = new UserPager({
      fetchPage: () => Promise.reject(new Error('the user list answered 500')),
      onView: () => {},
      onError: (error) => errors.push(error),
    });
    await failing.reload();
    assert.deepEqual(
      errors.map((e) => e.message),
      ['the user list answered 500'],
    );
    assert.equal(failing.view.loading, false);
    assert.deepEqual(ids(pages.view.users), ['ann', 'bea']);
  });
});
