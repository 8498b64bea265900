import { spawn, spawnSync } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { TestnetError } from './errors.ts'
import { tryRun } from './sh.ts'

/** dockerd's output goes here when `atoll testnet up --docker` starts it. */
export const DOCKERD_LOG = '/var/log/atoll-dockerd.log'
/**
 * The dockerd that `up --docker` starts writes its pid here (and removes it when it exits), so that
 * it can be told apart from one someone else runs. /run is a tmpfs: it goes at reboot with the process.
 */
export const DOCKERD_PIDFILE = '/run/atoll-dockerd.pid'
const DOCKERD_START_MS = 60_000

const has = (bin: string) => tryRun(['sh', '-c', `command -v ${bin}`]).status === 0
const engineAnswers = () => tryRun(['docker', 'info', '--format', '{{.ServerVersion}}']).status === 0

/**
 * Makes sure a Docker engine answers: installs Debian's docker.io (and docker-compose, for the compose
 * file) when dockerd is missing, and starts dockerd, detached, when it is not running.
 */
export async function ensureDocker(log?: (m: string) => void): Promise<void> {
  if (has('docker') && engineAnswers()) return
  if (!has('dockerd')) {
    log?.("installing Debian's docker.io and docker-compose (apt-get)")
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    const apt = (args: string[]) => {
      const r = spawnSyncInherit(['apt-get', ...args], env)
      if (r !== 0) throw new TestnetError(`apt-get ${args.join(' ')} failed (exit ${r})`)
    }
    apt(['update', '-q'])
    apt(['install', '-y', '-q', '--no-install-recommends', 'docker.io'])
    // compose is a convenience for docker/compose.yaml; the backend itself drives the docker CLI.
    if (
      spawnSyncInherit(
        ['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'docker-compose'],
        env,
      ) !== 0
    ) {
      log?.('docker-compose did not install; continuing without it')
    }
  }
  if (!has('dockerd'))
    throw new TestnetError(`dockerd is not on PATH (${process.env.PATH}) after installing docker.io`)
  log?.(`starting dockerd (log: ${DOCKERD_LOG})`)
  const fd = openSync(DOCKERD_LOG, 'a')
  let failed: Error | undefined
  try {
    const child = spawn('dockerd', ['--pidfile', DOCKERD_PIDFILE], {
      detached: true,
      stdio: ['ignore', fd, fd],
    })
    child.on('error', (err) => {
      failed = err
    })
    child.unref()
  } finally {
    closeSync(fd)
  }
  const deadline = Date.now() + DOCKERD_START_MS
  while (Date.now() < deadline) {
    if (failed !== undefined) throw new TestnetError(`dockerd could not start: ${failed.message}`)
    if (engineAnswers()) return
    await sleep(250)
  }
  throw new TestnetError(`dockerd did not answer within ${DOCKERD_START_MS / 1000} s; see ${DOCKERD_LOG}`)
}

/** The pid of the dockerd that `up --docker` started, while it runs (a stale pid file names none). */
export function startedDockerd(): number | undefined {
  try {
    const pid = Number(readFileSync(DOCKERD_PIDFILE, 'utf8').trim())
    if (!Number.isInteger(pid) || pid <= 0) return undefined
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dockerd' ? pid : undefined
  } catch {
    return undefined // no pid file, or no such process
  }
}

/** apt-get's progress goes to stderr, so the CLI's stdout stays clean. */
function spawnSyncInherit(argv: string[], env: NodeJS.ProcessEnv): number {
  return spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 2, 2], env }).status ?? 1
}
