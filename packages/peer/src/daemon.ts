/**
 * The peer daemon: identity, capability report, the mesh with its three protocols, membership, logs and
 * metrics, and the worker role: stages of training jobs from the coordinators on its allow-list, run
 * on its `--device` (job/worker.ts). A tensor sent to the `atoll/echo` job is sent back to its sender
 * unchanged, so any peer can check a round trip end to end (like ping, for tensors); any other tensor
 * must be a job's, or it is refused at its header.
 */
import type { Server } from 'node:http'
import { AtollMesh, createNode, type IncomingTensor, listenAddresses, loadIdentity } from '@atoll/net'
import { type Backend, nodeBackends } from '@atoll/runtime'
import { isReplicaEdge, isSyncEdge, replicaGate, syncGate } from '@atoll/sync'
import { type Logger, pino } from 'pino'
import { capabilityReport } from './capabilities.ts'
import type { PeerConfig } from './config.ts'
import { JobWorker } from './job/worker.ts'
import { Membership } from './membership.ts'
import { PeerMetrics } from './metrics.ts'
import { type CapabilityReport, capabilitiesMethod, peersMethod } from './rpc.ts'
import { type DaemonState, removeDaemonState, writeDaemonState } from './state.ts'

export const ECHO_JOB = 'atoll/echo'

export class PeerDaemon {
  readonly mesh: AtollMesh
  readonly capabilities: CapabilityReport
  readonly log: Logger
  readonly metrics: PeerMetrics
  private readonly config: PeerConfig
  private readonly membership: Membership
  private readonly worker: JobWorker
  private backend: Promise<Backend> | undefined
  private server: Server | undefined

  private constructor(
    config: PeerConfig,
    mesh: AtollMesh,
    caps: CapabilityReport,
    log: Logger,
    metrics: PeerMetrics,
  ) {
    this.config = config
    this.mesh = mesh
    this.capabilities = caps
    this.log = log
    this.metrics = metrics
    this.membership = new Membership(mesh, log, metrics, { probeSeconds: config.probeSeconds })
    this.worker = new JobWorker({
      mesh,
      log,
      backend: () => this.startBackend(),
      allow: config.allow,
      jobTimeoutMs: config.jobTimeoutSeconds * 1000,
      computeThreads: config.computeThreads,
      onTensorDropped: (kind) => metrics.tensorDropped(kind),
      onStep: (job, answer) => metrics.jobStep(job, answer),
    })
    metrics.countJobs(() => this.worker.jobs.length)
  }

  /** Starts a daemon: loads (or creates) its identity, calibrates, listens, joins, serves. */
  static async start(config: PeerConfig, log = createLogger(config.logLevel)): Promise<PeerDaemon> {
    const privateKey = await loadIdentity(config.dataDir)
    const metrics = new PeerMetrics()
    const node = await createNode({
      privateKey,
      listen: config.listen,
      announce: config.announce.length > 0 ? config.announce : undefined,
      bootstrap: config.bootstrap,
      relay: config.relay,
      mdns: config.mdns,
    })
    const mesh = new AtollMesh(node, {
      observer: metrics.observer(log),
      probe: { seconds: config.probeSeconds },
    })
    for (const { peer, shape } of config.links) {
      if (peer === '*') mesh.links.setDefault(shape)
      else mesh.links.set(peer, shape)
    }
    const caps = await capabilityReport(
      node.peerId.toString(),
      config.name,
      config.device,
      config.memoryBytes,
    )
    const daemon = new PeerDaemon(config, mesh, caps, log, metrics)
    await daemon.serve()
    return daemon
  }

  get addresses(): string[] {
    return this.mesh.node.getMultiaddrs().map((a) => a.toString())
  }

  private async serve(): Promise<void> {
    const { mesh, log, metrics, config } = this
    mesh.ctrl.serve(capabilitiesMethod, () => this.capabilities)
    mesh.ctrl.serve(peersMethod, () => ({
      self: { peerId: mesh.peerId, name: config.name, addresses: this.addresses },
      peers: this.membership.summaries(),
    }))
    mesh.tensors.onIncoming(({ from, header }) =>
      log.debug(
        { from, job: header.job, step: header.step, mb: header.mb, edge: header.edge, bytes: header.bytes },
        'tensor incoming',
      ),
    )
    this.worker.serve()
    // a stage's replicas synchronise in sync groups of their own (@atoll/sync), which judge their
    // collectives' headers and their replica messages (a joiner's state, a late replica's catch-up)
    const sync = syncGate(mesh)
    const replicas = replicaGate(mesh)
    mesh.tensors.setGate((header, from) => {
      if (isSyncEdge(header.edge)) return sync(header, from)
      if (isReplicaEdge(header.edge)) return replicas(header, from)
      return header.job === ECHO_JOB ? undefined : this.worker.gate(header, from)
    })
    mesh.tensors.onMessage((msg) => this.received(msg))
    mesh.tensors.onFailure(({ from, header, error }) => {
      metrics.tensorFailures.inc({ error: error.name })
      log.warn({ from, edge: header?.edge, err: { name: error.name, message: error.message } }, 'tensor lost')
    })
    this.membership.start()
    await mesh.start()
    if (config.metrics !== undefined)
      this.server = await metrics.serve(config.metrics.host, config.metrics.port)
    // `addresses` are what other peers are told (the announced ones, if any); `listen` is what a
    // client on this machine can dial
    const state: DaemonState = {
      peerId: mesh.peerId,
      addresses: this.addresses,
      listen: listenAddresses(mesh.node).map((a) => a.toString()),
      pid: process.pid,
      metrics: this.metricsUrl,
    }
    writeDaemonState(config.dataDir, state)
    const { device, flops } = this.capabilities
    const allow = config.allow === 'any' ? 'any' : [...config.allow]
    log.info({ ...state, device, flops, allow, jobTimeoutSeconds: config.jobTimeoutSeconds }, 'peer started')
  }

  /**
   * The backend job stages run on, started by the first assignment and kept: a daemon that is never
   * given work never loads a GPU provider, and every later stage shares one backend.
   */
  private startBackend(): Promise<Backend> {
    if (this.backend === undefined) {
      const device = this.capabilities.device
      this.backend = nodeBackends().resolve(device)
      this.backend.then(
        (b) => this.log.info({ device, backend: b.name }, 'backend started'),
        (err: Error) =>
          this.log.error({ device, err: { name: err.name, message: err.message } }, 'backend failed'),
      )
    }
    return this.backend
  }

  get metricsUrl(): string | undefined {
    const addr = this.server?.address()
    return addr && typeof addr === 'object' ? `http://${addr.address}:${addr.port}/metrics` : undefined
  }

  private received(msg: IncomingTensor): void {
    const { from, header, payload } = msg
    this.metrics.tensors.inc()
    const fields = { job: header.job, step: header.step, mb: header.mb, edge: header.edge }
    this.log.debug({ from, ...fields, bytes: header.bytes }, 'tensor received')
    if (this.worker.received(msg) || header.job !== ECHO_JOB) return
    this.mesh.tensors.send(from, header, payload).catch((err: Error) => {
      this.log.warn({ to: from, ...fields, err: { name: err.name, message: err.message } }, 'echo failed')
    })
  }

  /**
   * Stops probing (the probe in hand is cut short and its floor given back), stops accepting work,
   * lets a job's step in hand end and its coordinator let this peer go for up to the grace period
   * (then releases the jobs' stages), lets transfers in flight finish for up to the grace period,
   * aborts the rest, closes the node and the metrics server, and removes the state file.
   */
  async stop(): Promise<void> {
    this.log.info({ inFlight: this.mesh.tensors.inFlight, jobs: this.worker.jobs }, 'stopping')
    // first: a probe in hand would otherwise keep the other daemons' floors until its lease ran out
    await this.membership.stop()
    // before the mesh: a step in hand may end, and its coordinator let this peer go, within the grace;
    // after it a step waiting on a tensor fails now rather than when its stream is cut
    await this.worker.leave(this.config.graceMs)
    const drained = await this.mesh.stop(this.config.graceMs)
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
    removeDaemonState(this.config.dataDir)
    this.log.info({ drained }, 'peer stopped')
  }
}

/** JSON lines on stdout, written synchronously so nothing is lost at exit. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: 1, sync: true }))
}
