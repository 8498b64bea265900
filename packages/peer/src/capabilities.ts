/** The capability report: devices, measured FLOP/s, memory, versions. Measured once at start-up. */
import { readFileSync } from 'node:fs'
import { cpus, freemem, hostname, totalmem } from 'node:os'
import { CTRL_PROTOCOL, PROBE_PROTOCOL, TENSOR_PROTOCOL } from '@atoll/net'
import * as ort from 'onnxruntime-node'
import { BackendUnavailableError, nodeBackends } from '@atoll/runtime'
import { calibrate } from './calibrate.ts'
import { DeviceUnavailableError } from './errors.ts'
import type { CapabilityReport, DeviceInfo } from './rpc.ts'

export const DEVICES = ['cpu', 'cuda', 'webgpu'] as const
export type DeviceChoice = (typeof DEVICES)[number] | 'auto'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string
}

/**
 * Which devices work here: CPU always; CUDA and WebGPU where runtime's backend for them starts — its
 * device and software are present (presence.ts) and a probe session computes the right answer.
 */
export async function detectDevices(): Promise<DeviceInfo[]> {
  const cores = cpus()
  const out: DeviceInfo[] = [
    { kind: 'cpu', available: true, detail: `${cores.length} × ${cores[0]?.model ?? 'cpu'}` },
  ]
  const backends = nodeBackends()
  for (const kind of ['cuda', 'webgpu']) {
    try {
      await backends.resolve(kind)
      out.push({ kind, available: true, detail: 'probe session ran' })
    } catch (err) {
      const cause = err instanceof BackendUnavailableError ? (err.causes[0]?.error ?? err) : (err as Error)
      out.push({ kind, available: false, detail: cause.message.split('\n')[0].slice(0, 300) })
    }
  }
  return out
}

/** The device to compute on: the requested one (which must be available), or the best available. */
export function chooseDevice(devices: DeviceInfo[], choice: DeviceChoice): string {
  const available = new Set(devices.filter((d) => d.available).map((d) => d.kind))
  if (choice !== 'auto') {
    if (!available.has(choice)) {
      const why = devices.find((d) => d.kind === choice)?.detail ?? 'unknown device'
      throw new DeviceUnavailableError(`--device ${choice} is not available here: ${why}`)
    }
    return choice
  }
  return available.has('cuda') ? 'cuda' : available.has('webgpu') ? 'webgpu' : 'cpu'
}

/**
 * Which machine this is, as the planner needs it: daemons that share one share its cores. The boot
 * id names the running kernel, the same in every network namespace and container on it (which a
 * host name is not); elsewhere the host name stands in.
 */
function machineId(): string {
  try {
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    if (id.length > 0) return id
  } catch {
    // not Linux: fall through
  }
  return hostname()
}

export async function capabilityReport(
  peerId: string,
  name: string,
  choice: DeviceChoice,
  memoryOffer = Number.POSITIVE_INFINITY,
): Promise<CapabilityReport> {
  const devices = await detectDevices()
  const device = chooseDevice(devices, choice)
  const cal = await calibrate(device)
  const cores = cpus()
  return {
    peerId,
    name,
    device,
    flops: cal.flops,
    calibration: { side: cal.side, runs: cal.runs },
    devices,
    // a peer may offer jobs less than it has (--memory): planners see only the offer
    memory: { totalBytes: Math.min(totalmem(), memoryOffer), freeBytes: Math.min(freemem(), memoryOffer) },
    cpu: { model: cores[0]?.model ?? 'unknown', cores: Math.max(1, cores.length) },
    host: machineId(),
    versions: {
      atoll: pkg.version,
      node: process.versions.node,
      onnxruntime: ort.env.versions.common ?? 'unknown',
    },
    protocols: [TENSOR_PROTOCOL, PROBE_PROTOCOL, CTRL_PROTOCOL],
    measuredAt: Date.now(),
  }
}
