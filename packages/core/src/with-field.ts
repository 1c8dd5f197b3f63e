/**
 * A shallow copy of `object` with one field set, for copies made on every call. Not
 * `{ ...object, [key]: value }`: on Node 20 a property added after a spread costs ~0.7 µs, and
 * the copy's first readers run slower too (measured: a request copied that way made the AI SDK
 * bridge's option building ~2.5 µs slower per call); `Object.assign` onto `{}` costs ~0.05 µs.
 */
export function withField<T extends object, K extends keyof T>(object: T, key: K, value: T[K]): T {
  const copy = Object.assign({}, object);
  copy[key] = value;
  return copy;
}
