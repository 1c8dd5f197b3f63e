/** `maxTokens` → `max_tokens`, `baseURL` → `base_url`, `requiredGpuMemoryGb` → `required_gpu_memory_gb`. */
export function camelToSnake(key: string): string {
  return key
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase();
}

/**
 * Key of a provider's `config:` block as the plugin sees it: snake_case and kebab-case become
 * camelCase, and a `url` word becomes `URL` (`base_url` → `baseURL`, as the SDKs spell it).
 * Keys without `_`/`-` are kept as written.
 */
export function configKeyToCamel(key: string): string {
  if (!/[_-]/.test(key)) return key;
  const parts = key.split(/[_-]+/).filter((p) => p !== "");
  return parts
    .map((part, i) => {
      const lower = part.toLowerCase();
      if (i === 0) return lower;
      if (lower === "url") return "URL";
      return lower.charAt(0).toUpperCase() + lower.slice(1);
    })
    .join("");
}
