/** The scheme of a URL-shaped setting (`postgres` of `postgres://…`, `sqlite` of `sqlite:FILE`), or null. */
export function schemeOf(text: string): string | null {
  return /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1] ?? null;
}

/** The URL with its password (in the user part or a `password=` parameter) replaced by `***`, for logs. */
export function redactDatabaseUrl(text: string): string {
  return text
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:)[^/?#]*@/i, '$1***@')
    .replace(/([?&]password=)[^&#]*/gi, '$1***');
}
