/**
 * A key in the same Redis Cluster hash slot as `key`, so that one script may use both: it
 * carries `key`'s hash tag, or makes all of `key` its tag when it has none. (A key with braces
 * but no valid tag, such as `a{}b`, should be given one: no companion can share its slot.)
 */
export function keyBeside(key: string, suffix: string): string {
  const open = key.indexOf("{");
  const close = open < 0 ? -1 : key.indexOf("}", open + 1);
  return close > open + 1 ? `${key}${suffix}` : `{${key}}${suffix}`;
}
