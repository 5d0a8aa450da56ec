/**
 * The member names of a JSON object text, in order and decoded (`"s\u0075b"` is `sub`), duplicates
 * included; `undefined` when the text is not a JSON object.
 *
 * `JSON.parse` keeps the last of two members with one name and says nothing, so a duplicate can
 * only be seen in the text. Searching the text for `"sub"` is not enough: the same characters may
 * be a value (`{"username":"sub"}`) or sit inside a nested object. This walks the top level of the
 * object, skipping values whole, and reads each name as JSON does.
 */
export function jsonMemberNames(text: string): string[] | undefined {
  let at = 0;
  const skipSpace = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text.charAt(at))) at++;
  };
  /** Past the string literal opening at `at`; its text, quotes included. */
  const readString = (): string | undefined => {
    const start = at;
    at++;
    while (at < text.length) {
      const c = text.charAt(at);
      if (c === '\\') at += 2;
      else if (c === '"') return text.slice(start, ++at);
      else at++;
    }
    return undefined;
  };
  /** Past one value: a string, or anything up to the `,` or `}` that ends it at this depth. */
  const skipValue = (): boolean => {
    let depth = 0;
    while (at < text.length) {
      const c = text.charAt(at);
      if (c === '"') {
        if (readString() === undefined) return false;
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) return true;
        depth--;
      } else if (c === ',' && depth === 0) return true;
      at++;
    }
    return false;
  };

  skipSpace();
  if (text.charAt(at) !== '{') return undefined;
  at++;
  const names: string[] = [];
  skipSpace();
  if (text.charAt(at) === '}') return names;
  for (;;) {
    skipSpace();
    if (text.charAt(at) !== '"') return undefined;
    const literal = readString();
    if (literal === undefined) return undefined;
    let name: unknown;
    try {
      name = JSON.parse(literal);
    } catch {
      return undefined;
    }
    names.push(name as string);
    skipSpace();
    if (text.charAt(at) !== ':') return undefined;
    at++;
    if (!skipValue()) return undefined;
    if (text.charAt(at) === '}') return names;
    at++; // the ','
  }
}

/** Whether the JSON object text names a member twice (RFC 7519 §4: claim names are unique). */
export function hasDuplicateMember(text: string): boolean {
  const names = jsonMemberNames(text);
  return names !== undefined && new Set(names).size !== names.length;
}
