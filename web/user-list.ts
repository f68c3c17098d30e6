/*
 * The user table, page by page. Each row's first cell is a button; only one of them is in the Tab order (the
 * chosen user's, else the first), so Tab moves past a list of thousands in one step. The arrow keys, Home and End
 * move between rows; Arrow Down on the last row loads the next page. The chosen row says so in text and to
 * assistive technology (aria-pressed), not by colour alone. Scrolling to the end loads the next page too, and a
 * button does the same for those who prefer it.
 */
import { formatCount, formatMinute } from './format.js';
import type { UserListView, UserSummary } from './user-pages.js';

export interface UserListElements {
  table: HTMLTableElement;
  filter: HTMLInputElement;
  /** Shown when there is no user at all. */
  empty: HTMLElement;
  /** Says how many users are shown, and whether more are loading. */
  status: HTMLElement;
  more: HTMLButtonElement;
}

export interface UserListCallbacks {
  onSelect(userId: string): void;
  onSearch(text: string): void;
  onMore(): void;
}

function sameSummary(a: UserSummary, b: UserSummary): boolean {
  return (
    a === b ||
    (a.minutes === b.minutes &&
      a.samples === b.samples &&
      a.first_minute === b.first_minute &&
      a.last_minute === b.last_minute)
  );
}

interface Row {
  user: UserSummary;
  element: HTMLTableRowElement;
  button: HTMLButtonElement;
}

export class UserList {
  readonly #elements: UserListElements;
  readonly #body: HTMLTableSectionElement;
  readonly #callbacks: UserListCallbacks;
  readonly #rows = new Map<string, Row>();
  #view: UserListView = { users: [], prefix: '', more: false, loading: false };
  #selected: string | null = null;
  /** The row that holds the list's one Tab stop. */
  #tabStop: string | null = null;
  /** Arrow Down on this (last) row asked for the next page: focus moves on when it arrives. */
  #advanceFrom: string | null = null;

  constructor(elements: UserListElements, callbacks: UserListCallbacks) {
    this.#elements = elements;
    this.#callbacks = callbacks;
    const { table, filter, more } = elements;
    this.#body = table.tBodies[0] ?? table.createTBody();
    this.#body.addEventListener('keydown', (event) => this.#onKey(event));
    this.#body.addEventListener('focusin', (event) => this.#moveTabStop(event.target));
    this.#body.addEventListener('click', (event) => {
      const id = this.#userOf(event.target);
      if (id !== undefined) callbacks.onSelect(id);
    });
    filter.addEventListener('input', () => callbacks.onSearch(filter.value));
    more.addEventListener('click', () => callbacks.onMore());
    // Reaching the end of the list while scrolling loads the next page before the button is even seen.
    const scroller = table.closest<HTMLElement>('.table-wrap');
    new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && this.#view.more) callbacks.onMore();
      },
      { root: scroller, rootMargin: '0px 0px 300px 0px' },
    ).observe(more);
  }

  show(view: UserListView): void {
    this.#view = view;
    const focused = this.#userOf(document.activeElement);
    this.#render(view.users);
    if (focused !== undefined) this.#rows.get(focused)?.button.focus(); // a live update must not take the focus away
    this.#advance();
    this.#showStatus(view);
  }

  select(userId: string | null): void {
    this.#selected = userId;
    for (const { user, element, button } of this.#rows.values()) {
      const chosen = user.user_id === userId;
      button.setAttribute('aria-pressed', String(chosen));
      element.classList.toggle('selected', chosen);
    }
    if (userId !== null && this.#rows.has(userId)) this.#setTabStop(userId);
  }

  /**
   * Puts the rows of `users` in order, reusing each row whose user did not change: a live update touches only the
   * rows it changes, whatever the length of the list.
   */
  #render(users: readonly UserSummary[]): void {
    const keep = new Set(users.map((u) => u.user_id));
    for (const [id, row] of this.#rows) {
      if (keep.has(id)) continue;
      row.element.remove();
      this.#rows.delete(id);
    }
    let next = this.#body.firstElementChild;
    for (const user of users) {
      const existing = this.#rows.get(user.user_id);
      const row = existing && sameSummary(existing.user, user) ? existing : this.#row(user);
      if (existing && existing !== row) {
        if (existing.element === next) next = next.nextElementSibling;
        existing.element.remove();
      }
      this.#rows.set(user.user_id, row);
      if (row.element === next) next = next.nextElementSibling;
      else this.#body.insertBefore(row.element, next);
    }
    const first = users[0]?.user_id ?? null;
    this.#setTabStop(this.#tabStop !== null && this.#rows.has(this.#tabStop) ? this.#tabStop : first);
  }

  #row(user: UserSummary): Row {
    const element = document.createElement('tr');
    const head = document.createElement('th');
    head.scope = 'row';
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.user = user.user_id;
    button.textContent = user.user_id; // user ids are data, never markup
    button.tabIndex = user.user_id === this.#tabStop ? 0 : -1;
    const chosen = user.user_id === this.#selected;
    button.setAttribute('aria-pressed', String(chosen));
    element.classList.toggle('selected', chosen);
    head.append(button);
    const cells = [
      formatCount(user.minutes),
      formatCount(user.samples),
      formatMinute(Date.parse(user.first_minute)),
      formatMinute(Date.parse(user.last_minute)),
    ].map((text, i) => {
      const cell = document.createElement('td');
      cell.textContent = text;
      cell.className = i < 2 ? 'number' : 'time';
      return cell;
    });
    element.append(head, ...cells);
    return { user, element, button };
  }

  #showStatus(view: UserListView): void {
    const { empty, status, more, table } = this.#elements;
    const count = view.users.length;
    empty.hidden = count > 0 || view.prefix !== '' || view.loading;
    more.hidden = !view.more;
    more.disabled = view.loading;
    table.setAttribute('aria-busy', String(view.loading));
    const shown = count === 1 ? '1 user' : `${formatCount(count)} users`;
    const matching = view.prefix === '' ? '' : ` whose id starts with “${view.prefix}”`;
    status.textContent =
      count === 0 && view.prefix !== '' && !view.loading
        ? `No user id starts with “${view.prefix}”.`
        : `${shown}${matching}${view.more ? '; more below' : ''}${view.loading ? ' · loading…' : ''}`;
  }

  #userOf(target: EventTarget | null): string | undefined {
    if (!(target instanceof Element)) return undefined;
    return target.closest<HTMLButtonElement>('button[data-user]')?.dataset.user;
  }

  #setTabStop(userId: string | null): void {
    if (this.#tabStop !== null && this.#tabStop !== userId) {
      const previous = this.#rows.get(this.#tabStop);
      if (previous) previous.button.tabIndex = -1;
    }
    this.#tabStop = userId;
    const row = userId === null ? undefined : this.#rows.get(userId);
    if (row) row.button.tabIndex = 0;
  }

  #moveTabStop(target: EventTarget | null): void {
    const id = this.#userOf(target);
    if (id !== undefined) this.#setTabStop(id);
  }

  /** After a page asked for by Arrow Down on the last row: on to the first new row, if the focus stayed. */
  #advance(): void {
    const from = this.#advanceFrom;
    if (from === null || this.#view.loading) return;
    this.#advanceFrom = null;
    const row = this.#rows.get(from);
    const next = row?.element.nextElementSibling?.querySelector<HTMLButtonElement>('button[data-user]');
    if (row && document.activeElement === row.button) next?.focus();
  }

  #onKey(event: KeyboardEvent): void {
    const buttons = [...this.#body.querySelectorAll<HTMLButtonElement>('button[data-user]')];
    const current = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (current < 0) return;
    const last = buttons.length - 1;
    if (event.key === 'ArrowDown' && current === last && this.#view.more) {
      event.preventDefault();
      this.#advanceFrom = buttons[current]?.dataset.user ?? null;
      this.#callbacks.onMore();
      return;
    }
    const target = {
      ArrowDown: Math.min(last, current + 1),
      ArrowUp: Math.max(0, current - 1),
      Home: 0,
      End: last,
    }[event.key];
    if (target === undefined) return;
    event.preventDefault();
    buttons[target]?.focus();
  }
}
