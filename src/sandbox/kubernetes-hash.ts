/** Pod-template hashes the way the controllers name things: `web-5d4b7f9c8`, `db-6c9f8d7b5`. */

function isEmptyObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
}

/**
 * JSON with object keys sorted and null / empty-object fields left out, so templates that decode
 * to the same Go struct (`creationTimestamp: null`, `resources: {}`) hash equally, whatever a
 * client sent.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null && !isEmptyObject(v))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** FNV-1a, 32 bit (kubernetes pkg/util/hash + controller.ComputeHash). */
function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** apimachinery rand.SafeEncodeString: no vowels, no confusable characters. */
function safeEncode(text: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...text].map((char) => alphabet[char.charCodeAt(0) % alphabet.length]).join('');
}

/** The `pod-template-hash` / `controller-revision-hash` of a pod template. */
export function templateHash(template: unknown): string {
  const copy = structuredClone(template ?? {}) as { metadata?: { labels?: Record<string, string> } };
  if (copy.metadata?.labels !== undefined) delete copy.metadata.labels['pod-template-hash'];
  return safeEncode(String(fnv32a(canonicalJson(copy))));
}
