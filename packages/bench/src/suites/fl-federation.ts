/**
 * One federation of the `fl` suite, run with the FL machinery as `atoll fl` runs it: the server is
 * peer's serveFederation (FederatedRounds, held-out evaluation and a checkpoint after each round),
 * each client peer's joinFederation (its Dirichlet shard, its uplink probed with sync's
 * measureUplink, runtime's localTrainer on onnxruntime, sync's runFlClient). Every one is a real
 * libp2p mesh on 127.0.0.1 in this process. A client's mesh shapes what it sends the server (net's
 * LinkTable: a token bucket for that peer, with a burst of 50 ms rather than the default's 128 KiB),
 * so its probe measures, and its uploads take, its link's rate; what the server sends (the round's
 * model) is not shaped.
 */
import { join } from 'node:path'
import { setTimeout } from 'node:timers/promises'
import { AtollMesh, createNode, listenAddresses } from '@atoll/net'
import {
  type FlRoundMetrics,
  type FlServerEvent,
  joinFederation,
  type NodeClientEvent,
  parseFlSpec,
  serveFederation,
} from '@atoll/peer'
import type { Backend } from '@atoll/runtime'
import type { FlStrategyName } from '@atoll/sync'
import type { FlSetting } from './fl-setting.ts'

const LOOPBACK = '/ip4/127.0.0.1/tcp/0'
const DATASET = 'fashion-mnist'
/** Between two clients' first connections to the server: under libp2p's 5 a second from one host. */
const DIAL_GAP_MS = 250
/**
 * What an idle client link passes at once: 50 ms at its rate, the share net's links keep for late
 * timers. Their default burst (at least 128 KiB) would let a 1 Mbit/s client send a top-k update of
 * this model (about 50 kB at a ratio of 0.1) unpaced.
 */
const LINK_BURST_SECONDS = 0.05
/** How long a stopping mesh lets tensors in flight finish. */
const STOP_GRACE_MS = 1_000

/** What one client did in a federation. */
export interface FlClientRun {
  index: number
  /** the emulated upload rate of its link to the server */
  mbit: number
  /** what its probe measured over that link (BCRS sizes it by this) */
  measuredMbit: number
  samples: number
  uploads: { round: number; bytes: number; seconds: number }[]
  downloads: { round: number; seconds: number }[]
}

export interface FederationRun {
  strategy: FlStrategyName
  /** held-out accuracy of the initial model */
  startAccuracy: number
  /** the server's metrics, one per round */
  rounds: FlRoundMetrics[]
  clients: FlClientRun[]
  /** each round's keep ratio per client, in client order */
  keepRatios: number[][]
  /** updates the server refused (none expected: every client is honest) */
  refused: number
  /** from the server's start to the last client's exit, probes and evaluations included */
  wallSeconds: number
}

/** Client k's upload rate: geometric from min to max, so that each client is a constant factor faster. */
export function clientMbit(setting: Pick<FlSetting, 'clients' | 'mbit'>): number[] {
  const { min, max } = setting.mbit
  const n = setting.clients
  return Array.from({ length: n }, (_, k) => (n === 1 ? min : min * (max / min) ** (k / (n - 1))))
}

/** The FL.yaml of a federation (JSON, which is YAML), read by the parser `atoll fl serve` uses. */
export function flFileText(setting: FlSetting, strategy: FlStrategyName, checkpointDir: string): string {
  const strategies: Record<FlStrategyName, object> = {
    fedavg: { name: 'fedavg' },
    'fedavg-topk': { name: 'fedavg-topk', keepRatio: setting.keepRatio },
    'bcrs-opwa': { name: 'bcrs-opwa', keepRatio: setting.keepRatio },
  }
  return JSON.stringify({
    name: `bench-${strategy}`,
    model: { zoo: 'mlp', seed: setting.seed },
    dataset: DATASET,
    strategy: strategies[strategy],
    rounds: setting.rounds,
    clients: { fraction: 1, min: setting.clients, seed: setting.seed },
    deadlineSeconds: setting.deadlineSeconds,
    local: setting.local,
    server: { lr: 1 },
    eval: { samples: setting.evalSamples, batchSize: setting.evalBatch },
    checkpoint: { dir: checkpointDir },
  })
}

export interface FederationInit {
  setting: FlSetting
  strategy: FlStrategyName
  /** checkpoints and FL.yaml paths go under here */
  work: string
  /** the server's evaluation backend */
  serverBackend: Backend
  /** one per client: each its own onnxruntime thread, as separate client processes would have */
  clientBackends: readonly Backend[]
  log(line: string): void
}

/** Serves one federation with `strategy` and runs its clients until it is done. */
export async function runFederation(init: FederationInit): Promise<FederationRun> {
  const meshes: AtollMesh[] = []
  // stops the server's and the clients' loops when the run fails part-way (a failed client would
  // leave the server waiting for it for good)
  const stop = new AbortController()
  const t0 = performance.now()
  try {
    const server = await startMesh(meshes)
    const record = new FederationRecord(init.strategy, clientMbit(init.setting), init.log)
    const { served } = await startServer(init, server, record, stop.signal)
    const clients = await connectClients(server, record, meshes)
    const address = listenAddresses(server.node)[0]
    const joined = clients.map((mesh, index) =>
      joinFederation({
        mesh,
        server: address,
        dataset: DATASET,
        shard: { ...shardOf(init.setting), index },
        backend: init.clientBackends[index],
        threads: 1,
        probeSeconds: init.setting.probeSeconds,
        signal: stop.signal,
        onEvent: (event) => record.client(index, event),
      }),
    )
    const [rounds] = await Promise.all([served, Promise.all(joined)])
    return record.run(rounds, (performance.now() - t0) / 1000)
  } finally {
    stop.abort()
    await Promise.all(meshes.map((m) => m.stop(STOP_GRACE_MS)))
  }
}

async function startMesh(meshes: AtollMesh[]): Promise<AtollMesh> {
  const mesh = new AtollMesh(await createNode({ listen: [LOOPBACK], webrtc: false }))
  meshes.push(mesh)
  await mesh.start()
  return mesh
}

/** The federation's server on `mesh`, once it serves (clients may join); `served` resolves with its rounds. */
async function startServer(
  init: FederationInit,
  mesh: AtollMesh,
  record: FederationRecord,
  signal: AbortSignal,
): Promise<{ served: Promise<FlRoundMetrics[]> }> {
  const { setting, strategy, work } = init
  const spec = parseFlSpec(
    flFileText(setting, strategy, join(work, strategy)),
    join(work, `${strategy}.yaml`),
  )
  const serving = Promise.withResolvers<void>()
  const served = serveFederation({
    spec,
    mesh,
    backend: init.serverBackend,
    signal,
    onEvent: (event) => {
      if (event.kind === 'serving') serving.resolve()
      if (event.kind !== 'resumed') record.server(event)
    },
  })
  served.catch(serving.reject)
  await serving.promise
  // wrapped: an async function returning the promise itself would wait for the whole federation
  return { served }
}

/** A mesh per client, its link to the server shaped at the client's rate, connected to the server. */
async function connectClients(
  server: AtollMesh,
  record: FederationRecord,
  meshes: AtollMesh[],
): Promise<AtollMesh[]> {
  const clients = await Promise.all(record.clients.map(() => startMesh(meshes)))
  const address = listenAddresses(server.node)[0]
  for (const [k, mesh] of clients.entries()) {
    record.known(mesh.peerId, k)
    const rateBytesPerSecond = (record.clients[k].mbit * 1e6) / 8
    const burstBytes = rateBytesPerSecond * LINK_BURST_SECONDS
    mesh.links.set(server.peerId, { rateBytesPerSecond, burstBytes })
    // libp2p refuses more than 5 inbound connections a second from one host (its
    // inboundConnectionThreshold), and every client here is 127.0.0.1: they connect one by one
    await mesh.node.dial(address)
    await setTimeout(DIAL_GAP_MS)
  }
  return clients
}

/** Every client's shard options but its index. */
function shardOf(setting: FlSetting) {
  const { clients: count, alpha, seed, samplesPerClient: maxSamples } = setting
  return { count, alpha, seed, maxSamples }
}

/** What the server's and the clients' events said, by client index. */
class FederationRecord {
  readonly clients: FlClientRun[]
  readonly #strategy: FlStrategyName
  readonly #index = new Map<string, number>()
  readonly #log: (line: string) => void
  #startAccuracy = Number.NaN
  #refused = 0

  constructor(strategy: FlStrategyName, mbit: readonly number[], log: (line: string) => void) {
    this.#strategy = strategy
    this.#log = log
    this.clients = mbit.map((rate, index) => ({
      index,
      mbit: rate,
      measuredMbit: Number.NaN,
      samples: 0,
      uploads: [],
      downloads: [],
    }))
  }

  known(peerId: string, index: number): void {
    this.#index.set(peerId, index)
  }

  server(event: FlServerEvent): void {
    if (event.kind === 'evaluated' && event.round === 'start') this.#startAccuracy = event.evaluation.accuracy
    if (event.kind === 'update' && !event.answer.accepted) {
      this.#refused++
      this.#log(`fl: ${this.#strategy}: refused ${event.client}: ${event.answer.reason}`)
    }
    if (event.kind === 'refused') {
      this.#refused++
      this.#log(`fl: ${this.#strategy}: refused ${event.client}: ${event.reason}`)
    }
    if (event.kind === 'round') {
      const m = event.metrics
      this.#log(
        `fl: ${this.#strategy} round ${m.round}: accuracy ${(100 * m.accuracy).toFixed(1)} %, ${m.seconds.toFixed(2)} s, ${(m.uploadBytes / 1e3).toFixed(0)} kB up, ${m.accepted}/${m.selected} accepted`,
      )
    }
  }

  client(index: number, event: NodeClientEvent): void {
    const client = this.clients[index]
    if (event.kind === 'measured') {
      client.measuredMbit = (event.bandwidthBps * 8) / 1e6
      client.samples = event.samples
    } else if (event.kind === 'round')
      client.downloads.push({ round: event.task.round, seconds: event.downloadSeconds })
    else if (event.kind === 'uploaded')
      client.uploads.push({ round: event.round, bytes: event.bytes, seconds: event.seconds })
    else if (event.kind === 'missed')
      this.#log(`fl: ${this.#strategy}: client ${index} missed: ${event.reason}`)
  }

  run(rounds: FlRoundMetrics[], wallSeconds: number): FederationRun {
    const keepRatios = rounds.map((m) => {
      const ratios = new Array<number>(this.clients.length).fill(Number.NaN)
      for (const [peer, ratio] of Object.entries(m.keepRatios)) {
        const k = this.#index.get(peer)
        if (k !== undefined) ratios[k] = ratio
      }
      return ratios
    })
    return {
      strategy: this.#strategy,
      startAccuracy: this.#startAccuracy,
      rounds,
      clients: this.clients,
      keepRatios,
      refused: this.#refused,
      wallSeconds,
    }
  }
}
