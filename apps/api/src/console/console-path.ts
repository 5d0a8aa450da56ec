const CONSOLE_WITH_SLASH = '/admin/console/';

/** `/admin/console/` (with or without a query) as `/admin/console`; any other URL unchanged. */
export function consoleWithoutSlash(url: string): string {
  if (!url.startsWith(CONSOLE_WITH_SLASH)) return url;
  const rest = url.slice(CONSOLE_WITH_SLASH.length);
  return rest === '' || rest.startsWith('?') ? `/admin/console${rest}` : url;
}
