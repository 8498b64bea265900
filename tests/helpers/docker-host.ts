/**
 * What a Docker test changes on the host, so that it leaves the host as it found it: the peer images
 * it built, and, when `atoll testnet up --docker` had to start dockerd, that dockerd (stopped by its
 * pid, never by name: a dockerd that was already running is left alone) and what dockerd changes when
 * it starts (IPv4 forwarding, the filter and nat iptables tables, the docker0 bridge).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { IMAGE_REPO, isAlive, startedDockerd } from '../../packages/testnet/src/index.ts'

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward'
/** dockerd stops its containers and its containerd first; a stop that takes longer is a failure. */
const DOCKERD_STOP_MS = 60_000

export interface DockerHost {
  engineWasUp: boolean
  /** ms since the epoch: peer images created after this were built by the test */
  since: number
  ipForward: string
  /** `iptables-save` of the filter and nat tables, or undefined without iptables */
  iptables: string | undefined
  docker0: boolean
}

const sh = (argv: string[], input?: string) =>
  spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', ...(input !== undefined ? { input } : {}) })

export function dockerHostBefore(): DockerHost {
  const saved = sh(['iptables-save', '-t', 'filter']).stdout + sh(['iptables-save', '-t', 'nat']).stdout
  return {
    engineWasUp: sh(['docker', 'info', '--format', '{{.ServerVersion}}']).status === 0,
    since: Date.now(),
    ipForward: readFileSync(IP_FORWARD, 'utf8'),
    iptables: saved.includes('COMMIT') ? saved : undefined,
    docker0: existsSync('/sys/class/net/docker0'),
  }
}

/** Puts back what the test changed; throws when the dockerd it started does not stop. */
export async function restoreDockerHost(before: DockerHost): Promise<void> {
  removeImagesSince(before.since)
  if (before.engineWasUp) return
  const pid = startedDockerd()
  if (pid === undefined) return // the test never got as far as starting it
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + DOCKERD_STOP_MS
  while (isAlive(pid) && Date.now() < deadline) await sleep(250)
  if (isAlive(pid)) throw new Error(`dockerd (pid ${pid}) did not stop within ${DOCKERD_STOP_MS / 1000} s`)
  if (before.iptables !== undefined) sh(['iptables-restore'], before.iptables)
  writeFileSync(IP_FORWARD, before.ipForward)
  if (!before.docker0 && existsSync('/sys/class/net/docker0')) sh(['ip', 'link', 'del', 'docker0'])
}

function removeImagesSince(since: number): void {
  const tags = sh(['docker', 'images', IMAGE_REPO, '--format', '{{.Repository}}:{{.Tag}}']).stdout
  for (const tag of tags.split('\n').filter(Boolean)) {
    const created = Date.parse(
      sh(['docker', 'image', 'inspect', '--format', '{{.Created}}', tag]).stdout.trim(),
    )
    if (created >= since) sh(['docker', 'rmi', tag])
  }
}
