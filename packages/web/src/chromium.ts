/**
 * Debian's Chromium, driven by playwright-core with `executablePath` (Playwright's own browser
 * download is never used: nothing comes from outside the npm registry and Debian), for the browser
 * tests and the `fl` benchmark. Installed with apt-get when missing, as CI runs as root on a fresh
 * machine; started headless with the flags this machine's closed network needs. Node-only.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'
import { ChromiumError } from './errors.ts'

export const CHROMIUM = '/usr/bin/chromium'

/**
 * Without the background-networking flags Chromium dials Google's services at every start, and this
 * machine refuses each connection; --no-sandbox because tests run as root; loopback WebRTC because
 * the tests' peers run on 127.0.0.1 (Chromium leaves loopback out of its ICE candidates otherwise).
 */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
]
/** Another apt-get (a second test file's) may hold dpkg's lock: wait for it rather than fail. */
const APT_LOCK_WAIT_S = 300

/** The Chromium binary, installed from Debian's `chromium` package when missing. */
export function ensureChromium(log: (line: string) => void = console.error): string {
  if (existsSync(CHROMIUM)) return CHROMIUM
  if (process.getuid?.() !== 0)
    throw new ChromiumError(`${CHROMIUM} is missing and only root may install it: apt-get install chromium`)
  log("installing Debian's chromium (apt-get)…")
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const lock = `-oDPkg::Lock::Timeout=${APT_LOCK_WAIT_S}`
  for (const args of [
    ['update', '-q', lock],
    ['install', '-y', '-q', '--no-install-recommends', lock, 'chromium'],
  ]) {
    const run = spawnSync('apt-get', args, { stdio: ['ignore', 2, 2], env })
    if (run.status !== 0) throw new ChromiumError(`apt-get ${args.join(' ')} failed (exit ${run.status})`)
  }
  if (!existsSync(CHROMIUM))
    throw new ChromiumError(`apt-get installed chromium, but ${CHROMIUM} is not there`)
  return CHROMIUM
}

/** Headless Chromium; close it when done (its processes end with it). */
export function launchChromium(log?: (line: string) => void): Promise<Browser> {
  return chromium.launch({ executablePath: ensureChromium(log), headless: true, args: FLAGS })
}
