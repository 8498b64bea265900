/**
 * The STUN/TURN servers WebRTC is told to use, as a person types them (a flag, a page's address):
 * `none`, or comma-separated `stun:`, `turn:` or `turns:` URLs.
 */
import { IceServerError } from './errors.ts'

export function iceServerList(text: string): string[] {
  if (text.trim() === 'none') return []
  const urls = text.split(',').map((u) => u.trim())
  for (const url of urls)
    if (!/^(stun|turns?):\S+$/.test(url))
      throw new IceServerError(`'${url}' is not a stun:, turn: or turns: URL (or give none)`)
  return urls
}
