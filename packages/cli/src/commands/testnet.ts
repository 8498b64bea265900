import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import {
  flagValue,
  numeric,
  outputFlag,
  parseFlags,
  splitCommandLine,
  UsageError,
  writeJsonOutput,
} from '@atoll/flags'
import {
  backendFor,
  composeYaml,
  downTestnet,
  exchangeAll,
  findPeer,
  isAlive,
  loadTopology,
  MAX_MEASURE_SECONDS,
  MAX_PEERS,
  measureLinks,
  measureVia,
  peerCommand,
  presetNames,
  requireState,
  topologySvg,
  type TestnetState,
  upTestnet,
  withPeersPerSite,
} from '@atoll/testnet'
import * as z from 'zod/mini'
import type { Command } from '../command.ts'

function usage(): string {
  return [
    'Usage: atoll testnet <up|status|exchange|exec|logs|down|draw|compose> …',
    '',
    '  up --topology NAME|FILE [--peers N] [--docker] [--no-peers] [--allow PEER_ID…]',
    '                                                    create the testnet and start `atoll peer` on each peer;',
    '                                                    --peers N: N peers in every site; the daemons take stages',
    "                                                    from the testnet's coordinator and each --allow PEER_ID",
    '  status [--measure] [--tcp] [--seconds S] [--retries N] [--json FILE]',
    '                                                    peers, daemons, and (--measure) each shaped link:',
    '                                                    /atoll/probe/1 between daemons, or raw TCP (--tcp);',
    '                                                    --retries re-measures readings >10% under spec;',
    '                                                    --seconds: at most 5 through the daemons, 30 with --tcp',
    '  exchange [--bytes N] [--json FILE]                every peer sends a tensor to every other and gets it back',
    '  exec PEER -- CMD…                                 run a command inside a peer; `atoll …` is the daemons’',
    '                                                    CLI, and `atoll train JOB.yaml` there coordinates as the',
    '                                                    testnet’s coordinator with that peer’s daemon',
    '  logs PEER                                         print a peer daemon’s log',
    '  down [--backend netns|docker]                     remove everything (also after a crash)',
    '  draw --topology NAME|FILE [--out FILE.svg]        a picture of the sites, peers and links',
    '  compose --topology NAME|FILE [--image I] [--out FILE]  a compose file for docker/Dockerfile’s image',
    '',
    'The namespace backend (default) and --docker need root.',
    `Presets: ${presetNames().join(', ')}; or a YAML/JSON topology file (see docs/testnet.md).`,
  ].join('\n')
}

/** Whether this CLI has `atoll peer` to start on each peer (it comes with the peer package). */
async function hasPeerCommand(): Promise<boolean> {
  const { commands } = await import('./index.ts')
  return commands.some((c) => c.name === 'peer')
}

async function up(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    topology: { type: 'string' },
    docker: { type: 'boolean', default: false },
    peers: { type: 'string' },
    'no-peers': { type: 'boolean', default: false },
    allow: { type: 'string', multiple: true },
  })
  if (values.topology === undefined) throw new UsageError('up needs --topology NAME|FILE')
  const allow = await allowedCoordinators(values.allow ?? [])
  const perSite = flagValue('peers', values.peers, numeric(z.int().check(z.gte(1), z.lte(MAX_PEERS))))
  const loaded = loadTopology(values.topology)
  const topology = perSite === undefined ? loaded : withPeersPerSite(loaded, perSite)
  const startPeers = !values['no-peers'] && (await hasPeerCommand())
  const state = await upTestnet(topology, values.docker ? 'docker' : 'netns', {
    startPeers,
    allow,
    log: (m) => console.error(`atoll testnet: ${m}`),
  })
  printPeers(state)
  return 0
}

/** `up --allow` ids, checked before anything is made, as `atoll peer --allow` will check them. */
async function allowedCoordinators(texts: string[]): Promise<string[]> {
  if (texts.length === 0) return []
  // imported here, and only then: @atoll/peer brings onnxruntime
  const { peerIdText } = await import('@atoll/peer')
  return texts.map((text) => flagValue('allow', text, peerIdText) as string)
}

function printPeers(state: TestnetState): void {
  console.log(`testnet '${state.topology.name}' (${state.backend}) up since ${state.startedAt}`)
  for (const p of state.peers) {
    const daemon =
      p.multiaddr === undefined
        ? 'no daemon'
        : p.pid === undefined || isAlive(p.pid)
          ? p.multiaddr
          : `exited (pid ${p.pid})`
    console.log(`  ${p.name.padEnd(12)} ${p.site.padEnd(8)} ${p.address.padEnd(12)} ${daemon}`)
  }
  if (state.coordinator !== undefined)
    console.log(`coordinator ${state.coordinator} (atoll train through \`atoll testnet exec\`)`)
}

async function status(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    measure: { type: 'boolean', default: false },
    tcp: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    retries: { type: 'string' },
    json: { type: 'string' },
  })
  const retries = flagValue('retries', values.retries, numeric(z.int().check(z.gte(0), z.lte(10))))
  const json = outputFlag('json', values.json)
  const state = requireState()
  // checked here, before anything starts: a daemon probes for at most 5 s, raw TCP for up to 30
  const via = measureVia(state, values.tcp)
  const longest = MAX_MEASURE_SECONDS[via]
  const seconds = flagValue('seconds', values.seconds, numeric(z.number().check(z.gte(0.5), z.lte(longest))))
  printPeers(state)
  const report: Record<string, unknown> = {
    topology: state.topology.name,
    backend: state.backend,
    peers: state.peers,
  }
  if (values.measure) {
    console.log('links, one at a time:')
    report.links = await measureLinks(state, {
      seconds,
      via,
      retries,
      onLink: (l) =>
        console.log(
          `  ${`${l.from} → ${l.to}`.padEnd(18)} spec ${String(l.spec_mbit).padStart(6)}  measured ${l.measured_mbit} Mbit/s`,
        ),
    })
  }
  if (json !== undefined) writeJsonOutput(json, report)
  return 0
}

function exec(args: string[]): number {
  const { own, passed: cmd = [] } = splitCommandLine(args)
  if (own.length !== 1 || cmd.length === 0) throw new UsageError('exec needs PEER -- CMD…')
  const { argv, env } = peerCommand(requireState(), own[0], cmd)
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', env: { ...process.env, ...env } })
  return r.status ?? 1
}

function logs(args: string[]): number {
  if (args.length !== 1) throw new UsageError('logs needs exactly one PEER')
  const state = requireState()
  const argv = backendFor(state.backend).logCommand(findPeer(state, args[0]))
  return spawnSync(argv[0], argv.slice(1), { stdio: 'inherit' }).status ?? 1
}

async function exchange(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { bytes: { type: 'string' }, json: { type: 'string' } })
  const bytes =
    flagValue('bytes', values.bytes, numeric(z.int().check(z.gte(1), z.lte(64 * 1024 * 1024)))) ?? 256 * 1024
  const json = outputFlag('json', values.json)
  const results = await exchangeAll(requireState(), bytes, (r) =>
    console.log(`  ${`${r.from} → ${r.to} → ${r.from}`.padEnd(24)} ${r.bytes} bytes in ${r.seconds} s`),
  )
  if (json !== undefined) writeJsonOutput(json, { echoes: results })
  return 0
}

function compose(args: string[]): number {
  const { values } = parseFlags(args, {
    topology: { type: 'string' },
    out: { type: 'string' },
    image: { type: 'string' },
  })
  if (values.topology === undefined) throw new UsageError('compose needs --topology NAME|FILE')
  const yaml = composeYaml(loadTopology(values.topology), values.image)
  if (values.out === undefined) process.stdout.write(yaml)
  else writeFileSync(values.out, yaml)
  return 0
}

function draw(args: string[]): number {
  const { values } = parseFlags(args, { topology: { type: 'string' }, out: { type: 'string' } })
  if (values.topology === undefined) throw new UsageError('draw needs --topology NAME|FILE')
  const svg = topologySvg(loadTopology(values.topology))
  if (values.out === undefined) process.stdout.write(svg)
  else writeFileSync(values.out, svg)
  return 0
}

async function down(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { backend: { type: 'string' } })
  const removed = await downTestnet(flagValue('backend', values.backend, z.enum(['netns', 'docker'])))
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
    if (sub === 'exchange') return exchange(rest)
    if (sub === 'draw') return draw(rest)
    if (sub === 'compose') return compose(rest)
    if (sub === 'down') return down(rest)
    throw new UsageError(sub === undefined ? 'name a sub-command' : `unknown sub-command '${sub}'`)
  },
}
