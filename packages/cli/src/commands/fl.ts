import { resolve } from 'node:path'
import { flagSpec, flagUsage, numeric, parseFlags, readFlags, UsageError } from '@atoll/flags'
import * as z from 'zod/mini'
import type { Command } from '../command.ts'
import { progressBar } from './progress.ts'

const serveTable = {
  port: {
    arg: 'P',
    what: 'TCP port to listen on; WebSockets (browser clients) listen on P+1, the page (--web) on P+2; 0 picks free ports',
    schema: numeric(z.int().check(z.gte(0), z.lte(65533))),
    default: 4010,
  },
  host: {
    arg: 'IP',
    what: 'the IPv4 address to listen on',
    schema: z.ipv4(),
    default: '0.0.0.0',
  },
  identity: {
    arg: 'DIR',
    what: "where the server keeps its key, so that its peer id (and clients' ADDR) survives restarts (default: a new key each run)",
    schema: z.string().check(z.minLength(1)),
  },
  device: {
    arg: 'D',
    what: 'the backend the held-out evaluation runs on',
    schema: z.string().check(z.minLength(1)),
    default: 'cpu',
  },
  web: {
    what: "also serve the browser client over HTTP on port P+2, with the federation's status (the page joins this server)",
  },
  relay: {
    arg: 'ADDR',
    what: "a circuit relay v2 (e.g. `atoll peer --relay`; its WebSockets address, for browsers) to hold a reservation on: clients that cannot reach this server's ports join over WebRTC signalled through it",
    schema: z.string().check(z.minLength(1)),
  },
  stun: {
    arg: 'URLS',
    what: "STUN/TURN servers WebRTC learns this peer's public address from: comma-separated stun:/turn: URLs, or none (default: libp2p's public STUN list)",
    schema: z.string().check(z.minLength(1)),
  },
  'ice-address': {
    arg: 'IP',
    what: 'the one local address WebRTC gathers candidates on (default: every interface)',
    schema: z.ipv4(),
  },
} as const

/** How long the page server outlives the federation, so that open pages see its last status. */
const WEB_LINGER_MS = 3_000

/** `K/N`: the K-th of N parts, K from 1. */
const PARTITION = z.pipe(
  z.string(),
  z.transform((text, ctx) => {
    const match = /^(\d+)\/(\d+)$/.exec(text)
    const [k, n] = match === null ? [0, 0] : [Number(match[1]), Number(match[2])]
    if (n >= 1 && n <= 100_000 && k >= 1 && k <= n) return { index: k - 1, count: n }
    ctx.issues.push({ code: 'custom', input: text, message: 'K/N with 1 ≤ K ≤ N (the K-th of N parts)' })
    return z.NEVER
  }),
)

const joinTable = {
  data: {
    arg: 'NAME',
    what: "the image set this client trains on, as the server's FL.yaml names it",
    schema: z.enum(['fashion-mnist', 'mnist']),
    default: 'fashion-mnist',
  },
  partition: {
    arg: 'K/N',
    what: "this client's part of the training set: the K-th of N (every client of a federation uses the same N and --seed)",
    schema: PARTITION,
  },
  alpha: {
    arg: 'A',
    what: 'Dirichlet concentration of a non-IID split by label (small: few classes per client); absent: an even IID split',
    schema: numeric(z.number().check(z.gt(0), z.lte(1e6))),
  },
  seed: {
    arg: 'S',
    what: "the split's seed (the same on every client) and this client's batch order",
    schema: numeric(z.int().check(z.gte(0), z.lte(2 ** 31))),
    default: 0,
  },
  samples: {
    arg: 'M',
    what: 'train on at most M samples of the part (a seeded choice): quick runs',
    schema: numeric(z.int().check(z.gte(1))),
  },
  threads: {
    arg: 'T',
    what: "onnxruntime's threads for local training",
    schema: numeric(z.int().check(z.gte(1), z.lte(1024))),
    default: 1,
  },
  device: {
    arg: 'D',
    what: 'the backend local training runs on',
    schema: z.string().check(z.minLength(1)),
    default: 'cpu',
  },
  'probe-seconds': {
    arg: 'S',
    what: 'how long the upload probe to the server runs (the bandwidth BCRS sizes this client by)',
    schema: numeric(z.number().check(z.gte(0.05), z.lte(5))),
    default: 1,
  },
  stun: {
    arg: 'URLS',
    what: "STUN/TURN servers WebRTC learns this client's public address (for an ADDR through a relay) from: comma-separated stun:/turn: URLs, or none (default: libp2p's public STUN list)",
    schema: z.string().check(z.minLength(1)),
  },
  'ice-address': {
    arg: 'IP',
    what: 'the one local address WebRTC gathers candidates on (default: every interface)',
    schema: z.ipv4(),
  },
} as const

const usage = [
  'Usage:',
  '  atoll fl serve FL.yaml [--web] [--port P] [--host IP] [--identity DIR] [--device D] [--relay ADDR]',
  '  atoll fl join ADDR --partition K/N [--data fashion-mnist] [--alpha A] [--seed S] [--samples M] [--threads T]',
  '',
  'serve: runs the federation FL.yaml describes (docs/fl.md) as a libp2p peer: clients join, each round',
  '  selects some, sends them the model, takes their updates until every one is in or the deadline',
  '  passes, aggregates (fedavg, fedavg-topk or bcrs-opwa), evaluates on held-out images and checkpoints;',
  '  it resumes from the checkpoint folder when one is there. A line per round on stdout; joins and',
  '  refused updates, with the reason, on stderr. Prints the addresses clients join at; with --web, the',
  '  address of a page that joins from a browser tab and shows the federation live. With --relay, also',
  "  addresses through the relay, where clients that cannot reach the server's ports connect over WebRTC.",
  ...flagUsage(serveTable),
  '',
  "join: a Node client of the server at ADDR (a multiaddr ending in /p2p/<id>, or a relay's followed by",
  '  /p2p-circuit/webrtc/p2p/<id>, as the server prints it with --relay): probes its upload to the',
  '  server, trains each round it is selected for on its part of the data with SGD, uploads its update',
  '  at the keep ratio the server asks for, until the server is done.',
  ...flagUsage(joinTable),
].join('\n')

export const fl: Command = {
  name: 'fl',
  summary: 'federated learning: serve a federation (FL.yaml) or join one as a Node client',
  usage,
  async run(args) {
    const [sub, ...rest] = args
    if (sub === 'serve') return serve(rest)
    if (sub === 'join') return join(rest)
    throw new UsageError(`atoll fl takes serve or join, given ${sub === undefined ? 'nothing' : `'${sub}'`}`)
  },
}

/** Ctrl-C (or SIGTERM) aborts the signal; a second Ctrl-C quits at once. */
function interruptible(what: string): { signal: AbortSignal; release(): void } {
  const stop = new AbortController()
  const interrupt = () => {
    console.error(`\nstopping ${what} (Ctrl-C again to quit now)…`)
    stop.abort()
    process.once('SIGINT', () => process.exit(130))
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  return {
    signal: stop.signal,
    release() {
      process.off('SIGINT', interrupt)
      process.off('SIGTERM', interrupt)
    },
  }
}

async function serve(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, flagSpec(serveTable), true)
  const flags = readFlags(serveTable, values)
  if (positionals.length !== 1)
    throw new UsageError(`atoll fl serve takes one FL.yaml, given ${positionals.length}`)
  // imported here: libp2p and onnxruntime would slow down every other command
  const peer = await import('@atoll/peer')
  const net = await import('@atoll/net')
  const { nodeBackends } = await import('@atoll/runtime')
  const spec = peer.readFlFile(resolve(positionals[0]))
  const relay = flags.relay === undefined ? undefined : relayAddress(net.multiaddr, flags.relay)
  const ice = iceOptions(net.iceServerList, flags)
  const backend = await nodeBackends().resolve(flags.device)
  const ws = flags.port === 0 ? 0 : flags.port + 1
  const privateKey = flags.identity === undefined ? undefined : await net.loadIdentity(flags.identity)
  const listen = [`/ip4/${flags.host}/tcp/${flags.port}`, `/ip4/${flags.host}/tcp/${ws}/ws`]
  const mesh = new net.AtollMesh(
    await net.createNode({
      privateKey,
      listen: relay === undefined ? listen : [...listen, '/p2p-circuit'],
      webrtc: relay !== undefined,
      ice,
    }),
  )
  await mesh.start()
  const direct = net.listenAddresses(mesh.node).map(String)
  let web: Awaited<ReturnType<typeof serveWeb>> | undefined
  const { signal, release } = interruptible('the server: the round in hand is not finished')
  try {
    // through the relay: the WebRTC form of each address it gives this server (a browser needs its ws one)
    const relayed =
      relay === undefined
        ? []
        : (await net.reserveOn(mesh.node, relay, { signal })).map((a) => net.webRtcThrough(a).toString())
    const addresses = [...direct, ...relayed]
    const board = new peer.FederationBoard({
      federation: spec.name,
      strategy: spec.strategy.name,
      rounds: spec.rounds,
      joinAddresses: addresses.filter((a) => a.includes('/ws/')),
    })
    if (flags.web) web = await serveWeb(flags.host, flags.port === 0 ? 0 : flags.port + 2, board, direct)
    const onEvent = (event: ServeEvent) => {
      board.observe(event)
      if (event.kind !== 'serving') return showServerEvent(event)
      for (const address of addresses) console.log(`serving federation ${spec.name} at ${address}`)
      for (const url of web?.urls ?? []) console.log(`browser clients: open ${url}`)
    }
    const metrics = await peer.serveFederation({ spec, mesh, backend, signal, onEvent })
    board.done()
    console.log(closingLine(metrics.at(-1), signal.aborted, spec))
    if (web !== undefined && !signal.aborted) await new Promise((done) => setTimeout(done, WEB_LINGER_MS))
    return signal.aborted ? INTERRUPTED : 0
  } finally {
    release()
    await web?.close()
    await mesh.stop(1_000)
  }
}

/**
 * `--web`: the browser client (built first when stale) and `federation.json`, the board's status,
 * over HTTP; one URL per host the server's own WebSockets listen on (`direct`).
 */
async function serveWeb(
  host: string,
  port: number,
  board: import('@atoll/peer').FederationBoard,
  direct: readonly string[],
) {
  const { ensureWebClient, serveWebClient } = await import('@atoll/web')
  const dir = await ensureWebClient({ log: console.error })
  const server = await serveWebClient({ dir, host, port, json: { '/federation.json': () => board.status() } })
  const { port: listening } = new URL(server.url)
  const hosts = direct.filter((a) => a.includes('/ws/')).map((a) => a.split('/')[2])
  return { urls: [...new Set(hosts)].map((h) => `http://${h}:${listening}/`), close: () => server.close() }
}

/** The exit code of a command stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it). */
const INTERRUPTED = 130

function closingLine(
  last: import('@atoll/peer').FlRoundMetrics | undefined,
  stopped: boolean,
  spec: import('@atoll/peer').FlSpec,
): string {
  const where = `checkpoints and metrics.jsonl in ${spec.checkpoint.dir}`
  if (last !== undefined)
    return `${stopped ? 'stopped' : 'done'} after round ${last.round}: held-out accuracy ${percent(last.accuracy)}; ${where}`
  if (stopped) return `stopped before a round finished; ${where}`
  return `no round left: the federation has run its ${spec.rounds} rounds; ${where}`
}

type ServeEvent = import('@atoll/peer').FlServerEvent | { kind: 'resumed'; round: number; dir: string }

function showServerEvent(event: ServeEvent): void {
  const short = (client: string) => client.slice(-8)
  if (event.kind === 'resumed') console.log(`resumed from ${event.dir} at round ${event.round}`)
  else if (event.kind === 'joined')
    console.error(
      `client …${short(event.client)} ${event.again ? 'joined again' : 'joined'}: ${event.samples} samples, ${mbits(event.bandwidthBps)} up`,
    )
  else if (event.kind === 'left') console.error(`client …${short(event.client)} left`)
  else if (event.kind === 'waiting')
    console.error(`waiting for clients: ${event.joined} of ${event.needed} joined`)
  else if (event.kind === 'round-start') {
    const ratios = event.plan.assignments.map((a) => `…${short(a.client)} ρ=${a.keepRatio.toPrecision(3)}`)
    console.error(`round ${event.plan.round}: ${ratios.join(', ')}`)
  } else if (event.kind === 'update') {
    const a = event.answer
    if (a.accepted)
      console.error(`round ${event.round}: update of …${short(event.client)} taken (${kilobytes(a.bytes)})`)
    else
      console.error(
        `round ${event.round}: update of …${short(event.client)} REJECTED (${a.kind}): ${a.reason}`,
      )
  } else if (event.kind === 'refused')
    console.error(`tensor from …${short(event.client)} refused: ${event.reason}`)
  else if (event.kind === 'evaluated' && event.round === 'start')
    console.log(
      `start: held-out accuracy ${percent(event.evaluation.accuracy)}, loss ${event.evaluation.loss.toFixed(4)}`,
    )
  else if (event.kind === 'round') {
    const m = event.metrics
    console.log(
      `round ${m.round}: ${m.selected} clients (${m.accepted} accepted, ${m.rejected} rejected, ${m.dropped} dropped), ` +
        `${kilobytes(m.uploadBytes)} up, held-out accuracy ${percent(m.accuracy)}, loss ${m.loss.toFixed(4)}, ${m.seconds.toFixed(1)} s`,
    )
  }
}

async function join(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, flagSpec(joinTable), true)
  const flags = readFlags(joinTable, values)
  if (positionals.length !== 1)
    throw new UsageError(`atoll fl join takes the server's ADDR, given ${positionals.length}`)
  const { partition } = flags
  if (partition === undefined) throw new UsageError('atoll fl join needs --partition K/N')
  const peer = await import('@atoll/peer')
  const net = await import('@atoll/net')
  const { nodeBackends } = await import('@atoll/runtime')
  const server = serverAddress(net.multiaddr, positionals[0])
  const ice = iceOptions(net.iceServerList, flags)
  const webrtc = server.getComponents().some((c) => c.name === 'webrtc')
  const backend = await nodeBackends().resolve(flags.device)
  const mesh = new net.AtollMesh(await net.createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], webrtc, ice }))
  await mesh.start()
  const { signal, release } = interruptible('this client')
  let bar: ReturnType<typeof progressBar> | undefined
  try {
    const connection = await joinUnlessStopped(signal, () =>
      mesh.node.dial(server, { signal }).catch((err: Error) => {
        throw new net.PeerUnreachableError(`cannot reach the server at ${server}: ${err.message}`)
      }),
    )
    if (connection !== undefined) {
      const overWebRtc = connection.remoteAddr.getComponents().some((c) => c.name === 'webrtc')
      console.error(`connected to the server ${overWebRtc ? 'over WebRTC' : `at ${connection.remoteAddr}`}`)
    }
    const summary = await joinUnlessStopped(signal, () =>
      peer.joinFederation({
        mesh,
        server,
        dataset: flags.data,
        shard: { ...partition, alpha: flags.alpha, seed: flags.seed, maxSamples: flags.samples },
        backend,
        threads: flags.threads,
        probeSeconds: flags['probe-seconds'],
        signal,
        onEvent(event) {
          if (event.kind === 'step') {
            bar ??= progressBar(event.steps, `round ${event.round}`)
            bar.update(event.step + 1, `loss ${event.loss.toFixed(3)}`)
            return
          }
          bar?.end()
          bar = undefined
          showClientEvent(event)
        },
      }),
    )
    if (summary === undefined) {
      bar?.end()
      console.error('stopped: left the federation')
      return INTERRUPTED
    }
    console.log(
      `done: updates accepted in ${summary.accepted.length} round(s)` +
        (summary.refused.length > 0 ? `, refused or missed in ${summary.refused.length}` : ''),
    )
    return 0
  } finally {
    release()
    await mesh.stop(1_000)
  }
}

/** The client's summary, or undefined when Ctrl-C stopped it (whatever the stop made it throw). */
async function joinUnlessStopped<T>(signal: AbortSignal, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run()
  } catch (err) {
    if (signal.aborted) return undefined
    throw err
  }
}

function serverAddress(parse: typeof import('@atoll/net').multiaddr, text: string) {
  const address = peerAddress(parse, text, 'ADDR')
  const parts = address.getComponents().map((c) => c.name)
  const circuit = parts.indexOf('p2p-circuit')
  if (circuit >= 0 && parts[circuit + 1] !== 'webrtc')
    throw new UsageError(
      `ADDR: '${text}' goes through a relay without WebRTC; the relay limits that connection, so give the ` +
        'address the server prints with --relay (…/p2p-circuit/webrtc/p2p/<id>)',
    )
  return address
}

function relayAddress(parse: typeof import('@atoll/net').multiaddr, text: string) {
  const address = peerAddress(parse, text, '--relay')
  if (address.getComponents().some((c) => c.name === 'p2p-circuit'))
    throw new UsageError(`--relay: expected the relay's own address, found one through a relay: '${text}'`)
  return address
}

function peerAddress(parse: typeof import('@atoll/net').multiaddr, text: string, what: string) {
  try {
    const address = parse(text)
    if (address.getComponents().at(-1)?.name === 'p2p') return address
  } catch {
    // named below, as the flag's other problems are
  }
  throw new UsageError(`${what}: expected a multiaddr ending in /p2p/<peer id>, found '${text}'`)
}

/** WebRTC's ICE settings from --stun and --ice-address. */
function iceOptions(
  list: typeof import('@atoll/net').iceServerList,
  flags: { stun?: string; 'ice-address'?: string },
): import('@atoll/net').IceOptions {
  let servers: string[] | undefined
  try {
    servers = flags.stun === undefined ? undefined : list(flags.stun)
  } catch (err) {
    throw new UsageError(`--stun: ${(err as Error).message}`)
  }
  return {
    ...(servers === undefined ? {} : { servers }),
    ...(flags['ice-address'] === undefined ? {} : { bindAddress: flags['ice-address'] }),
  }
}

function showClientEvent(event: import('@atoll/peer').NodeClientEvent): void {
  if (event.kind === 'measured')
    console.error(`${event.samples} samples; upload to the server ${mbits(event.bandwidthBps)}`)
  else if (event.kind === 'joined') {
    const s = event.settings
    console.error(
      `joined federation ${s.federation}: ${s.model.zoo} on ${s.dataset}, ${s.rounds} rounds, next ${s.round}; ` +
        `${s.local.epochs} local epoch(s), batch ${s.local.batchSize}, lr ${s.local.lr}`,
    )
  } else if (event.kind === 'round')
    console.error(
      `round ${event.task.round}: model ${kilobytes(event.modelBytes)} in ${event.downloadSeconds.toFixed(2)} s; ` +
        `keep ratio ${event.task.keepRatio.toPrecision(3)}, ${(event.task.deadlineInMs / 1000).toFixed(0)} s to the deadline`,
    )
  else if (event.kind === 'uploaded') {
    const a = event.answer
    const verdict = a.accepted ? 'accepted' : `refused (${a.kind}): ${a.reason}`
    console.error(
      `round ${event.round}: sent ${kilobytes(event.bytes)} in ${event.seconds.toFixed(2)} s, ${verdict}`,
    )
  } else if (event.kind === 'missed') console.error(`round ${event.round}: missed: ${event.reason}`)
}

const percent = (x: number) => `${(100 * x).toFixed(2)} %`
const kilobytes = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`
const mbits = (bytesPerSecond: number) => `${((8 * bytesPerSecond) / 1e6).toFixed(1)} Mbit/s`
