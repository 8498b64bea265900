import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { median } from '../measure.ts'
import type { BenchOptions, BenchReport, BenchSuite } from '../suite.ts'
import { createShapedPair, isRoot } from './transport-netns.ts'
import type { SendJob, SendResult } from './transport-worker.ts'

const worker = fileURLToPath(new URL('./transport-worker.ts', import.meta.url))
const MiB = 1 << 20
const SHAPED_MBIT = [100, 1000]

interface Receiver {
  ready: { tcpPort: number; peerId: string; libp2pPort: number }
  stop(): Promise<void>
}

/** Starts the receiving process (`prefix`: e.g. `ip netns exec NS`) and waits until it listens. */
async function startReceiver(prefix: string[]): Promise<Receiver> {
  const [cmd, ...args] = [...prefix, process.execPath, worker, 'receive']
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', (code) =>
      reject(new Error(`transport receiver exited with ${code} before it was ready`)),
    )
  })
  return {
    ready: JSON.parse(line).ready,
    async stop() {
      child.stdin.end()
      await exited
    },
  }
}

/** Runs the sending process with `job` and returns what it measured. */
async function runSender(prefix: string[], job: SendJob): Promise<SendResult> {
  const [cmd, ...args] = [...prefix, process.execPath, worker, 'send', JSON.stringify(job)]
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d) => {
    out += d
  })
  const code = await new Promise((resolve) => child.on('exit', resolve))
  if (code !== 0) throw new Error(`transport sender exited with ${code}`)
  return JSON.parse(out.trim().split('\n').pop() ?? '{}').result
}

async function measure(
  prefix: [string[], string[]],
  host: string,
  job: Omit<SendJob, keyof Receiver['ready'] | 'host'>,
) {
  const receiver = await startReceiver(prefix[1])
  try {
    return await runSender(prefix[0], { ...job, host, ...receiver.ready })
  } finally {
    await receiver.stop()
  }
}

/**
 * Tensor streams (libp2p, Noise, yamux) against a raw TCP socket between the same two processes on
 * loopback; then, as root, tensor goodput and probe accuracy across two network namespaces joined by a
 * veth shaped with `tc tbf` at 100 Mbit/s and 1 Gbit/s.
 */
export const transport: BenchSuite = {
  name: 'transport',
  summary: 'tensor streams vs raw TCP (loopback); goodput and probe error on tbf-shaped veth links (root)',
  async run({ quick, log }: BenchOptions): Promise<BenchReport> {
    const runs = quick ? 1 : 3
    const bytes = (quick ? 32 : 256) * MiB
    const results: Record<string, number> = {}
    const details: Record<string, unknown> = {}
    const targets: Record<string, string> = {
      libp2p_vs_tcp_1stream: '>= 0.18',
      libp2p_vs_tcp_4streams: '>= 0.20',
    }
    log(`transport: ${bytes / MiB} MiB tensors on loopback, median of ${runs} runs after a warm-up`)
    const lo = await measure([[], []], '127.0.0.1', {
      bytes,
      runs,
      streams: [1, 4],
      reusedBuffer: true,
      probe: false,
    })
    const tcp = median(lo.tcpSeconds)
    results.libp2p_vs_tcp_1stream = tcp / median(lo.tensorSeconds['1'])
    results.libp2p_vs_tcp_4streams = tcp / median(lo.tensorSeconds['4'])
    // Atoll's framing against the library default: the same bytes over one bare libp2p stream
    results.tensor_vs_bare_libp2p_stream = median(lo.libp2pStreamSeconds) / median(lo.tensorSeconds['1'])
    details.loopback = {
      bytes,
      tcp_gbyte_per_s: bytes / tcp / 1e9,
      libp2p_1stream_gbyte_per_s: bytes / median(lo.tensorSeconds['1']) / 1e9,
      bare_libp2p_stream_gbyte_per_s: bytes / median(lo.libp2pStreamSeconds) / 1e9,
      // the same tensor into a receive buffer the receiver reuses: what fresh memory costs (page faults)
      libp2p_1stream_reused_buffer_gbyte_per_s: bytes / median(lo.tensorSeconds['1-reused']) / 1e9,
      libp2p_4streams_gbyte_per_s: bytes / median(lo.tensorSeconds['4']) / 1e9,
      raw: lo,
    }
    if (!isRoot()) {
      log('transport: not root, so the shaped-link figures (network namespaces + tc tbf) are skipped')
      details.shaped = 'skipped: needs root for network namespaces and tc'
      return { suite: 'transport', results, targets, details }
    }
    Object.assign(targets, {
      shaped_100mbit_goodput_fraction: '>= 0.90',
      shaped_1gbit_goodput_fraction: '>= 0.85',
      probe_error_fraction: '<= 0.10',
    })
    const pair = createShapedPair()
    let probeError = 0
    try {
      for (const mbit of SHAPED_MBIT) {
        pair.shape(mbit)
        const rate = (mbit * 1e6) / 8
        // ~3 s per transfer, so that a transfer's fixed costs (stream set-up, the receiver's fresh buffer,
        // the acknowledgement) weigh little against the link time
        const shapedBytes = Math.round((rate * (quick ? 0.5 : 3)) / MiB) * MiB
        log(`transport: ${mbit} Mbit/s tbf veth, ${shapedBytes / MiB} MiB tensors`)
        const ns = (name: string) => ['ip', 'netns', 'exec', name]
        const r = await measure([ns(pair.sender), ns(pair.receiver)], pair.receiverIp, {
          bytes: shapedBytes,
          runs,
          streams: [0],
          probe: true,
        })
        const goodput = shapedBytes / median(r.tensorSeconds['0'])
        const label = mbit >= 1000 ? `${mbit / 1000}gbit` : `${mbit}mbit`
        results[`shaped_${label}_goodput_fraction`] = goodput / rate
        const estimate = r.probe?.bytesPerSecond ?? 0
        probeError = Math.max(probeError, Math.abs(estimate - rate) / rate)
        details[`shaped_${label}`] = {
          bytes: shapedBytes,
          tensor_mbit_per_s: (goodput * 8) / 1e6,
          tcp_mbit_per_s: (shapedBytes / median(r.tcpSeconds) / 1e6) * 8,
          probe_mbit_per_s: (estimate * 8) / 1e6,
          probe_error_fraction: Math.abs(estimate - rate) / rate,
          probe: r.probe,
        }
      }
    } finally {
      pair.remove()
    }
    results.probe_error_fraction = probeError
    return { suite: 'transport', results, targets, details }
  },
}
