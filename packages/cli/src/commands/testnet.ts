import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  backendFor,
  downTestnet,
  findPeer,
  isAlive,
  loadTopology,
  measureLinks,
  type PeerCommand,
  presetNames,
  requireState,
  type TestnetState,
  upTestnet,
} from '@atoll/testnet'
import { type Command, UsageError } from '../command.ts'
import { numberFlag, parseFlags } from '../flags.ts'

const cliMain = fileURLToPath(new URL('../main.ts', import.meta.url))
/** The TCP port every testnet peer's daemon listens on (each has its own address, so one port serves). */
const PEER_PORT = 4001

function usage(): string {
  return [
    'Usage: atoll testnet <up|status|exec|logs|down> …',
    '',
    '  up --topology NAME|FILE [--docker] [--no-peers]   create the testnet and start `atoll peer` on each peer',
    '  status [--measure] [--seconds S] [--json FILE]    peers, daemons, and (--measure) each shaped link',
    '  exec PEER -- CMD…                                 run a command inside a peer',
    '  logs PEER                                         print a peer daemon’s log',
    '  down                                              remove everything (also after a crash)',
    '',
    'The namespace backend (default) and --docker need root.',
    `Presets: ${presetNames().join(', ')}; or a YAML/JSON topology file (see docs/testnet.md).`,
  ].join('\n')
}

/** `atoll peer` on a peer, when this CLI has that command (it is registered by the peer package). */
async function peerCommand(): Promise<PeerCommand | undefined> {
  const { commands } = await import('./index.ts')
  if (!commands.some((c) => c.name === 'peer')) return undefined
  return (peer, bootstrap) => [
    process.execPath,
    cliMain,
    'peer',
    '--listen',
    `/ip4/${peer.address}/tcp/${PEER_PORT}`,
    ...(bootstrap === undefined ? [] : ['--bootstrap', bootstrap]),
  ]
}

async function up(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    topology: { type: 'string' },
    docker: { type: 'boolean', default: false },
    'no-peers': { type: 'boolean', default: false },
  })
  if (values.topology === undefined) throw new UsageError('up needs --topology NAME|FILE')
  const topology = loadTopology(values.topology)
  const command = values['no-peers'] ? undefined : await peerCommand()
  if (command === undefined && !values['no-peers'])
    console.error('atoll testnet: no `atoll peer` command yet; links only')
  const state = await upTestnet(topology, values.docker ? 'docker' : 'netns', {
    peerCommand: command,
    log: (m) => console.error(`atoll testnet: ${m}`),
  })
  printPeers(state)
  return 0
}

function printPeers(state: TestnetState): void {
  console.log(`testnet '${state.topology.name}' (${state.backend}) up since ${state.startedAt}`)
  for (const p of state.peers) {
    const daemon =
      p.pid === undefined ? 'no daemon' : isAlive(p.pid) ? `pid ${p.pid}` : `exited (pid ${p.pid})`
    console.log(`  ${p.name.padEnd(12)} ${p.site.padEnd(8)} ${p.address.padEnd(12)} ${daemon}`)
  }
}

async function status(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    measure: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    json: { type: 'string' },
  })
  const seconds = numberFlag('seconds', values.seconds, 0.5, 30)
  const state = requireState()
  printPeers(state)
  const report: Record<string, unknown> = {
    topology: state.topology.name,
    backend: state.backend,
    peers: state.peers,
  }
  if (values.measure) {
    console.log('links (raw TCP, one at a time):')
    report.links = await measureLinks(state, {
      seconds,
      onLink: (l) =>
        console.log(
          `  ${`${l.from} → ${l.to}`.padEnd(18)} spec ${String(l.spec_mbit).padStart(6)}  measured ${l.measured_mbit} Mbit/s`,
        ),
    })
  }
  if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`)
  return 0
}

function exec(args: string[]): number {
  const dash = args.indexOf('--')
  const [peerName] = args
  const cmd = dash < 0 ? [] : args.slice(dash + 1)
  if (peerName === undefined || peerName === '--' || dash !== 1 || cmd.length === 0) {
    throw new UsageError('exec needs PEER -- CMD…')
  }
  const state = requireState()
  const argv = [...backendFor(state.backend).shell(findPeer(state, peerName)).prefix, ...cmd]
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit' })
  return r.status ?? 1
}

function logs(args: string[]): number {
  if (args.length !== 1) throw new UsageError('logs needs exactly one PEER')
  const state = requireState()
  const argv = backendFor(state.backend).logCommand(findPeer(state, args[0]))
  return spawnSync(argv[0], argv.slice(1), { stdio: 'inherit' }).status ?? 1
}

async function down(args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`down takes no arguments, got ${args.join(' ')}`)
  const removed = await downTestnet()
  console.log(removed.length === 0 ? 'nothing to remove' : `removed ${removed.join(', ')}`)
  return 0
}

export const testnet: Command = {
  name: 'testnet',
  summary: 'a geo-distributed testnet on this machine (network namespaces or Docker, shaped links)',
  get usage() {
    return usage()
  },
  async run(args) {
    const [sub, ...rest] = args
    if (sub === 'up') return up(rest)
    if (sub === 'status') return status(rest)
    if (sub === 'exec') return exec(rest)
    if (sub === 'logs') return logs(rest)
    if (sub === 'down') return down(rest)
    throw new UsageError(sub === undefined ? 'name a sub-command' : `unknown sub-command '${sub}'`)
  },
}
