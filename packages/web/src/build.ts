/**
 * The page's Vite build (dist/, git-ignored): made by `./atoll`'s set-up on a fresh clone and by
 * whoever serves the page (the tests, `atoll fl serve --web`) when it is missing or older than what
 * it is built from. Node-only. Vite runs in a child process: its bundler's native code and memory
 * stay out of the caller's.
 */
import { spawn } from 'node:child_process'
import { readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WebBuildError } from './errors.ts'

/** This package's folder. */
export const WEB_PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
/** The built page. */
export const WEB_CLIENT_DIR = join(WEB_PACKAGE_DIR, 'dist')

const REPO_ROOT = join(WEB_PACKAGE_DIR, '..', '..')
/** Written last by a build that succeeded; the build is current while nothing below is newer. */
const STAMP = '.atoll-built'
/** What the bundle is made of: the page, the packages it imports, the build's settings and the lock. */
const INPUTS = [
  'packages/web/src',
  'packages/web/index.html',
  'packages/web/vite.config.ts',
  'packages/web/package.json',
  'packages/compress/src',
  'packages/core/src',
  'packages/net/src',
  'packages/runtime/src',
  'packages/sched/src',
  'packages/simd/src',
  'packages/sync/src',
  'pnpm-lock.yaml',
]
/** What is left of a failed build's output in the error: its last lines, where Vite says why. */
const SHOWN_OUTPUT_CHARS = 4000

/** Whether dist/ holds a build at least as new as every input. */
export function webClientIsCurrent(): boolean {
  const built = modifiedMs(join(WEB_CLIENT_DIR, STAMP))
  return built !== undefined && INPUTS.every((input) => newestMs(join(REPO_ROOT, input)) <= built)
}

/**
 * Builds the page unless it is current; returns its folder. The build goes to a folder of its own,
 * then replaces dist/, so a page being served is never half-written.
 */
export async function ensureWebClient(options: { force?: boolean; log?: (line: string) => void } = {}) {
  if (!options.force && webClientIsCurrent()) return WEB_CLIENT_DIR
  options.log?.('building the browser client (vite build)…')
  const out = `${WEB_CLIENT_DIR}.${process.pid}.tmp`
  rmSync(out, { recursive: true, force: true })
  try {
    // Node loads the configuration itself (it runs .ts): Vite's own config bundler would inline the workspace's sources
    await runVite(['build', '--configLoader', 'native', '--outDir', out, '--emptyOutDir'])
    writeFileSync(join(out, STAMP), `${new Date().toISOString()}\n`)
    rmSync(WEB_CLIENT_DIR, { recursive: true, force: true })
    try {
      renameSync(out, WEB_CLIENT_DIR)
    } catch (err) {
      // another process's build took the place between the two calls: fine if it is current
      if (!webClientIsCurrent()) throw err
    }
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
  return WEB_CLIENT_DIR
}

function runVite(args: string[]): Promise<void> {
  const vitePackage = createRequire(join(WEB_PACKAGE_DIR, 'package.json')).resolve('vite/package.json')
  const bin = join(dirname(vitePackage), 'bin', 'vite.js')
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: WEB_PACKAGE_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-SHOWN_OUTPUT_CHARS)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  return new Promise((resolve, reject) => {
    child.on('error', (err) => reject(new WebBuildError(`vite could not start: ${err.message}`)))
    child.on('exit', (code, signal) => {
      if (code === 0) resolve()
      else reject(new WebBuildError(`vite build failed (${signal ?? `exit ${code}`}):\n${output}`))
    })
  })
}

function modifiedMs(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs
  } catch {
    return undefined
  }
}

/** The newest modification time of a file, or of any file under a folder (0 when missing). */
function newestMs(path: string): number {
  let stat: ReturnType<typeof statSync>
  try {
    stat = statSync(path)
  } catch {
    return 0
  }
  if (!stat.isDirectory()) return stat.mtimeMs
  return readdirSync(path).reduce(
    (newest, entry) => Math.max(newest, newestMs(join(path, entry))),
    stat.mtimeMs,
  )
}
