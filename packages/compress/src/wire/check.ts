/** Plain-data checks shared by the header and codecMeta validators. */

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** A short, bounded rendering of an untrusted value for error messages. */
export function describe(value: unknown): string {
  const text =
    typeof value === 'string' ? `'${value}'` : typeof value === 'bigint' ? `${value}n` : String(value)
  return text.length > 64 ? `${text.slice(0, 61)}...` : text
}
