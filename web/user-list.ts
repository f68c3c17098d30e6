/*
 * The user table. Each row's first cell is a button (Tab reaches the list, Enter or Space chooses); the arrow
 * keys, Home and End move between rows. The chosen row says so in text and to assistive technology
 * (aria-pressed), not by colour alone.
 */
import type { UserSummary } from './api.js';
import { formatCount, formatMinute } from './format.js';

export class UserList {
  readonly #body: HTMLTableSectionElement;
  readonly #filter: HTMLInputElement;
  readonly #empty: HTMLElement;
  readonly #onSelect: (userId: string) => void;
  #users: UserSummary[] = [];
  #selected: string | null = null;

  constructor(
    table: HTMLTableElement,
    filter: HTMLInputElement,
    empty: HTMLElement,
    onSelect: (id: string) => void,
  ) {
    this.#body = table.tBodies[0] ?? table.createTBody();
    this.#filter = filter;
    this.#empty = empty;
    this.#onSelect = onSelect;
    this.#body.addEventListener('keydown', (event) => this.#onKey(event));
    this.#body.addEventListener('click', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button[data-user]');
      if (button?.dataset.user !== undefined) this.#onSelect(button.dataset.user);
    });
    filter.addEventListener('input', () => this.#applyFilter());
  }

  update(users: UserSummary[]): void {
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.user;
    this.#users = users;
    this.#body.replaceChildren(...users.map((u) => this.#row(u)));
    this.#empty.hidden = users.length > 0;
    this.#applyFilter();
    if (focused !== undefined) this.#button(focused)?.focus(); // a live update must not steal the keyboard focus
  }

  select(userId: string | null): void {
    this.#selected = userId;
    for (const button of this.#buttons()) {
      const chosen = button.dataset.user === userId;
      button.setAttribute('aria-pressed', String(chosen));
      button.closest('tr')?.classList.toggle('selected', chosen);
    }
  }

  summary(userId: string): UserSummary | undefined {
    return this.#users.find((u) => u.user_id === userId);
  }

  #row(user: UserSummary): HTMLTableRowElement {
    const row = document.createElement('tr');
    const head = document.createElement('th');
    head.scope = 'row';
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.user = user.user_id;
    button.textContent = user.user_id; // user ids are data, never markup
    const chosen = user.user_id === this.#selected;
    button.setAttribute('aria-pressed', String(chosen));
    row.classList.toggle('selected', chosen);
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
    row.append(head, ...cells);
    return row;
  }

  #buttons(): HTMLButtonElement[] {
    return [...this.#body.querySelectorAll<HTMLButtonElement>('button[data-user]')];
  }

  #button(userId: string): HTMLButtonElement | undefined {
    return this.#buttons().find((b) => b.dataset.user === userId);
  }

  #applyFilter(): void {
    const needle = this.#filter.value.trim().toLowerCase();
    for (const button of this.#buttons()) {
      const row = button.closest('tr');
      if (row) row.hidden = needle !== '' && !(button.dataset.user ?? '').toLowerCase().includes(needle);
    }
  }

  #onKey(event: KeyboardEvent): void {
    const visible = this.#buttons().filter((b) => !b.closest('tr')?.hidden);
    const current = visible.indexOf(document.activeElement as HTMLButtonElement);
    const target = {
      ArrowDown: Math.min(visible.length - 1, current + 1),
      ArrowUp: Math.max(0, current - 1),
      Home: 0,
      End: visible.length - 1,
    }[event.key];
    if (target === undefined || current < 0) return;
    event.preventDefault();
    visible[target]?.focus();
  }
}
