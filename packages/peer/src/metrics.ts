/**
 * Prometheus metrics (prom-client) and the NetObserver that feeds them and the log: bytes per peer,
 * streams, stream failures, tensors, probe results, job stages running, per job the steps, compute
 * and wait seconds, bytes sent and loss, and the job tensors their mailboxes dropped. Served over
 * HTTP at `/metrics` when configured.
 */
import { createServer, type Server } from 'node:http'
import type { NetObserver, ProbeResult } from '@atoll/net'
import type { DropKind } from './job/mailbox.ts'
import type { StepAnswer } from './job/stage-job.ts'
import type { Logger } from 'pino'
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'

export class PeerMetrics {
  readonly registry = new Registry()
  readonly bytesSent = this.counter('atoll_bytes_sent_total', 'Bytes sent on Atoll protocols', [
    'peer',
    'protocol',
  ])
  readonly bytesReceived = this.counter('atoll_bytes_received_total', 'Bytes received on Atoll protocols', [
    'peer',
    'protocol',
  ])
  readonly streamsOpened = this.counter('atoll_streams_total', 'Streams opened', ['protocol', 'direction'])
  readonly streamsOpen = this.gauge('atoll_streams_open', 'Streams open now', ['protocol', 'direction'])
  readonly streamErrors = this.counter('atoll_stream_errors_total', 'Streams that failed, by error', [
    'protocol',
    'error',
  ])
  readonly tensors = this.counter('atoll_tensors_received_total', 'Complete tensor messages received', [])
  readonly tensorFailures = this.counter(
    'atoll_tensor_failures_total',
    'Tensor messages that did not arrive',
    ['error'],
  )
  readonly probeRtt = this.gauge('atoll_probe_rtt_seconds', 'Last probed round-trip time', ['peer'])
  readonly probeRate = this.gauge('atoll_probe_bandwidth_bytes_per_second', 'Last probed bandwidth', ['peer'])
  readonly peers = this.gauge('atoll_peers_connected', 'Peers connected now', [])
  readonly tensorsDropped = this.counter(
    'atoll_job_tensors_dropped_total',
    "Job tensors a stage's mailbox dropped: late (a past step), duplicate, foreign (not expected)",
    ['reason'],
  )
  readonly jobSteps = this.counter('atoll_job_steps_total', 'Steps this peer ran of each job', ['job'])
  readonly jobBusy = this.counter(
    'atoll_job_busy_seconds_total',
    "Seconds this peer's stage of each job computed",
    ['job'],
  )
  readonly jobWait = this.counter(
    'atoll_job_wait_seconds_total',
    "Seconds this peer's stage of each job waited for its boundary inputs",
    ['job'],
  )
  readonly jobBytes = this.counter(
    'atoll_job_bytes_sent_total',
    'Payload bytes of boundary tensors this peer sent, by job and receiving peer',
    ['job', 'peer'],
  )
  readonly jobLoss = this.gauge('atoll_job_loss', "The last step's mean loss (on the stage holding it)", [
    'job',
  ])
  /** read when scraped: the worker knows how many jobs it runs, no event has to keep a copy in step */
  #runningJobs: () => number = () => 0
  readonly jobsRunning: Gauge = new Gauge({
    name: 'atoll_jobs_running',
    help: 'Job stages this peer runs now',
    registers: [this.registry],
    collect: (): void => this.jobsRunning.set(this.#runningJobs()),
  })

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'atoll_' })
  }

  /** The observer to hand to the mesh: counts everything and logs failures. */
  observer(log: Logger): NetObserver {
    return {
      bytesSent: (peer, protocol, n) => this.bytesSent.inc({ peer, protocol }, n),
      bytesReceived: (peer, protocol, n) => this.bytesReceived.inc({ peer, protocol }, n),
      streamOpened: (protocol, direction) => {
        this.streamsOpened.inc({ protocol, direction })
        this.streamsOpen.inc({ protocol, direction })
      },
      streamClosed: (protocol, direction) => this.streamsOpen.dec({ protocol, direction }),
      streamFailed: (protocol, peer, err) => {
        this.streamErrors.inc({ protocol, error: err.name })
        log.warn(
          { protocol, peer, err: { name: err.name, message: err.message } },
          'stream failed and was reset',
        )
      },
    }
  }

  /** Where `atoll_jobs_running` is read from when scraped (the daemon's worker). */
  countJobs(running: () => number): void {
    this.#runningJobs = running
  }

  /** A step of `job` this peer's stage ran. */
  jobStep(job: string, answer: StepAnswer): void {
    this.jobSteps.inc({ job })
    this.jobBusy.inc({ job }, answer.busySeconds)
    this.jobWait.inc({ job }, answer.waitSeconds)
    for (const { to, bytes } of answer.sent) this.jobBytes.inc({ job, peer: to }, bytes)
    if (answer.losses.length > 0)
      this.jobLoss.set({ job }, answer.losses.reduce((a, b) => a + b, 0) / answer.losses.length)
  }

  tensorDropped(kind: DropKind): void {
    this.tensorsDropped.inc({ reason: kind })
  }

  probed(result: ProbeResult): void {
    this.probeRtt.set({ peer: result.peer }, result.rttMs / 1000)
    this.probeRate.set({ peer: result.peer }, result.bytesPerSecond)
  }

  /** Serves `/metrics`; resolves with the server once it listens (port 0 picks a free port). */
  serve(host: string, port: number): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404).end('not found: try GET /metrics\n')
        return
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(`${err.name}: ${err.message}\n`),
      )
    })
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => resolve(server))
    })
  }

  private counter(name: string, help: string, labelNames: string[]): Counter {
    return new Counter({ name, help, labelNames, registers: [this.registry] })
  }

  private gauge(name: string, help: string, labelNames: string[]): Gauge {
    return new Gauge({ name, help, labelNames, registers: [this.registry] })
  }
}
