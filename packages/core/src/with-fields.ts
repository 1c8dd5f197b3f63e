/**
 * `{ ...object, ...fields }` for copies made on every call. Not the spread: on Node 20 a property
 * added to an object that starts with a spread takes V8's slow path, ~1.7 µs per property
 * (`{ ...result, selectionId, explanation, attempts }` measured 5.1 µs, this 0.15 µs), and such a
 * copy left the first code reading it slower too (the AI SDK bridge's option building, ~2.5 µs
 * per call). Same keys, same order, same values as the spread.
 */
export function withFields<T extends object, U extends object>(object: T, fields: U): Omit<T, keyof U> & U {
  // An own key "__proto__" (JSON.parse makes one from a client's body) would set the copy's prototype
  // under Object.assign, which assigns; the spread defines it as a plain key. Such objects take the spread.
  if (Object.hasOwn(object, "__proto__") || Object.hasOwn(fields, "__proto__"))
    return { ...object, ...fields } as Omit<T, keyof U> & U;
  return Object.assign({}, object, fields) as Omit<T, keyof U> & U;
}
