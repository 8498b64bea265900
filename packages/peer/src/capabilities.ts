/** The capability report: devices, measured FLOP/s, memory, versions. Measured once at start-up. */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { cpus, freemem, hostname, totalmem } from 'node:os'
import { CTRL_PROTOCOL, PROBE_PROTOCOL, TENSOR_PROTOCOL } from '@atoll/net'
import * as ort from 'onnxruntime-node'
import { bundledProviders, calibrate, matmulModel } from './calibrate.ts'
import { DeviceUnavailableError } from './errors.ts'
import type { CapabilityReport, DeviceInfo } from './rpc.ts'

export const DEVICES = ['cpu', 'cuda', 'webgpu'] as const
export type DeviceChoice = (typeof DEVICES)[number] | 'auto'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string
}

/**
 * Which devices work here: CPU always; CUDA and WebGPU when the build carries their provider and a
 * session on a tiny model actually opens (a driver or adapter may be missing).
 */
export async function detectDevices(): Promise<DeviceInfo[]> {
  const bundled = bundledProviders()
  const cores = cpus()
  const out: DeviceInfo[] = [
    { kind: 'cpu', available: true, detail: `${cores.length} × ${cores[0]?.model ?? 'cpu'}` },
  ]
  for (const kind of ['cuda', 'webgpu']) {
    if (!bundled.includes(kind)) {
      out.push({ kind, available: false, detail: 'provider not in this onnxruntime-node build' })
      continue
    }
    if (kind === 'cuda' && !cudaProviderInstalled()) {
      // trying anyway would only make onnxruntime print a load failure on stderr
      out.push({
        kind,
        available: false,
        detail: 'CUDA provider library not installed (--onnxruntime-node-install=cuda12)',
      })
      continue
    }
    try {
      // severity 4 (fatal only): a missing provider library is an answer here, not an error to print
      const session = await ort.InferenceSession.create(matmulModel(2), {
        executionProviders: [kind],
        logSeverityLevel: 4,
      })
      await session.release()
      out.push({ kind, available: true, detail: 'session opened' })
    } catch (err) {
      out.push({ kind, available: false, detail: (err as Error).message.split('\n')[0].slice(0, 300) })
    }
  }
  return out
}

/** The CUDA provider ships as a separate library beside the binding, only when installed for CUDA. */
function cudaProviderInstalled(): boolean {
  try {
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node')
    const dir = join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch)
    return existsSync(join(dir, 'libonnxruntime_providers_cuda.so'))
  } catch {
    return false
  }
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
