/**
 * `{ ...object, ...fields }` for copies made on every call. Not the spread: on Node 20 a property
 * added to an object that starts with a spread takes V8's slow path, ~1.7 µs per property
 * (`{ ...result, selectionId, explanation, attempts }` measured 5.1 µs, this 0.15 µs), and such a
 * copy left the first code reading it slower too (the AI SDK bridge's option building, ~2.5 µs
 * per call). Same keys, same order, same values as the spread.
 */
export function withFields<T extends object, U extends object>(object: T, fields: U): Omit<T, keyof U> & U {
  return Object.assign({}, object, fields) as Omit<T, keyof U> & U;
}
