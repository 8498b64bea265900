/**
 * What the Docker test changes on the host, and what of it the test puts back.
 *
 * Put back:
 * - the peer image: the test builds it in a repository of its own (ATOLL_TESTNET_IMAGE, unique to the
 *   run) and removes that repository, so the user's `atoll-peer` images are neither reused nor
 *   replaced (`up` keeps one image a repository);
 * - when `atoll testnet up --docker` had to start dockerd: that dockerd, stopped by its pid (never by
 *   name; a dockerd that was already running is left alone), and what starting it changed: the
 *   iptables rules and chains it added (only those: the rules that appeared in the filter and nat
 *   tables and belong to docker — its DOCKER* chains, docker0, the testnet's bridges — so that rules
 *   others add meanwhile stay), the policy of a built-in chain it changed (FORWARD to DROP when it
 *   turns forwarding on), ip_forward, and the docker0 bridge if it made one.
 *
 * Stays: Debian's docker.io and docker-compose when `up` had to install them (installing packages is
 * how tests get root services here), dockerd's data in /var/lib/docker (no image, container or
 * network of the test's left in it) and its runtime folders /run/docker and /run/containerd, its log
 * /var/log/atoll-dockerd.log (appended to, kept for diagnosis), and the kernel modules it loaded
 * (bridge, br_netfilter, overlay, veth, netfilter's).
 *
 * Why dockerd is not started with --iptables=false --ip-forward=false instead: the host passes the
 * containers' bridged traffic through iptables (br_netfilter, bridge-nf-call-iptables=1 here), so a
 * FORWARD policy of DROP — what a dockerd that turned forwarding on leaves behind — would drop it;
 * dockerd's own rules for its bridges are what let it through.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { isAlive, PREFIX, startedDockerd } from '../../packages/testnet/src/index.ts'

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward'
/** dockerd stops its containers and its containerd first; a stop that takes longer is a failure. */
const DOCKERD_STOP_MS = 60_000
/** The tables dockerd writes to (IPv6 is off in Debian's docker.io 20.10 unless asked for). */
const TABLES = ['filter', 'nat'] as const
type Table = (typeof TABLES)[number]
/** A rule or chain of docker's: its chains, the default bridge, the testnet's site bridges. */
const DOCKERS = new RegExp(`DOCKER|\\bdocker0\\b|\\b${PREFIX}-b\\d+\\b`)

export interface DockerHost {
  engineWasUp: boolean
  /** the repository the test's peer image goes in: pass it to the CLI as ATOLL_TESTNET_IMAGE */
  imageRepo: string
  ipForward: string
  /** `iptables -S` of each table, or undefined without iptables */
  iptables: Record<Table, string[]> | undefined
  docker0: boolean
}

const sh = (argv: string[]) => spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' })

const rulesOf = (table: Table) => sh(['iptables', '-t', table, '-S']).stdout.split('\n').filter(Boolean)

function iptablesRules(): Record<Table, string[]> | undefined {
  if (sh(['iptables', '-t', 'filter', '-S']).status !== 0) return undefined
  return { filter: rulesOf('filter'), nat: rulesOf('nat') }
}

export function dockerHostBefore(): DockerHost {
  return {
    engineWasUp: sh(['docker', 'info', '--format', '{{.ServerVersion}}']).status === 0,
    imageRepo: `atoll-peer-test-${process.pid}-${Date.now().toString(36)}`,
    ipForward: readFileSync(IP_FORWARD, 'utf8'),
    iptables: iptablesRules(),
    docker0: existsSync('/sys/class/net/docker0'),
  }
}

/**
 * Puts back what the test changed, each step even when an earlier one failed (a dockerd left running
 * would keep everything else), and then throws with every step that failed.
 */
export async function restoreDockerHost(before: DockerHost): Promise<void> {
  const failed = removeRepository(before.imageRepo)
  if (!before.engineWasUp) failed.push(...(await stopStartedDockerd(before)))
  if (failed.length > 0) throw new Error(`the host is not as the Docker test found it:\n${failed.join('\n')}`)
}

async function stopStartedDockerd(before: DockerHost): Promise<string[]> {
  const pid = startedDockerd()
  if (pid === undefined) return [] // the test never got as far as starting it
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + DOCKERD_STOP_MS
  while (isAlive(pid) && Date.now() < deadline) await sleep(250)
  // a dockerd still running would put its rules back
  if (isAlive(pid)) return [`dockerd (pid ${pid}) did not stop within ${DOCKERD_STOP_MS / 1000} s`]
  const rules = before.iptables
  const failed = rules === undefined ? [] : undoIptables(rules)
  if (readFileSync(IP_FORWARD, 'utf8') !== before.ipForward) writeFileSync(IP_FORWARD, before.ipForward)
  if (!before.docker0 && existsSync('/sys/class/net/docker0')) sh(['ip', 'link', 'del', 'docker0'])
  const left = rules === undefined ? [] : TABLES.flatMap((table) => dockerAdded(table, rules))
  return [...failed, ...left.map((rule) => `still there: ${rule}`)]
}

const tagsIn = (repo: string) =>
  sh(['docker', 'images', repo, '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n').filter(Boolean)

function removeRepository(repo: string): string[] {
  for (const tag of tagsIn(repo)) sh(['docker', 'rmi', tag])
  return tagsIn(repo).map((tag) => `the test's image ${tag} could not be removed`)
}

/** Lines of `now` that `before` lacks, each as many times as it lacks it. */
function added(before: string[], now: string[]): string[] {
  const left = new Map<string, number>()
  for (const line of before) left.set(line, (left.get(line) ?? 0) + 1)
  return now.filter((line) => {
    const n = left.get(line) ?? 0
    left.set(line, n - 1)
    return n <= 0
  })
}

/** docker's rules and chains in `table` that were not there before. */
const dockerAdded = (table: Table, before: Record<Table, string[]>) =>
  added(before[table], rulesOf(table)).filter((line) => DOCKERS.test(line))

/**
 * Deletes docker's rules that were not there before (last first, so that jumps go before the chains
 * they reach), then the chains it made, and sets back a built-in chain's policy that changed.
 * Returns the commands that failed. `iptables -S` quotes nothing in docker's rules, so a rule's
 * words are its arguments.
 */
function undoIptables(before: Record<Table, string[]>): string[] {
  const failed: string[] = []
  const ipt = (table: Table, args: string[]) => {
    const r = sh(['iptables', '-t', table, ...args])
    if (r.status !== 0) failed.push(`iptables -t ${table} ${args.join(' ')}: ${r.stderr.trim()}`)
  }
  for (const table of TABLES) {
    const now = rulesOf(table)
    const docker = dockerAdded(table, before)
    for (const rule of docker.filter((l) => l.startsWith('-A ')).reverse())
      ipt(table, ['-D', ...rule.slice(3).split(' ')])
    for (const chain of docker.filter((l) => l.startsWith('-N ')).map((l) => l.slice(3))) {
      ipt(table, ['-F', chain])
      ipt(table, ['-X', chain])
    }
    for (const policy of before[table].filter((l) => l.startsWith('-P ') && !now.includes(l)))
      ipt(table, policy.split(' '))
  }
  return failed
}
