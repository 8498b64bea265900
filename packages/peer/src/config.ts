/** The daemon's configuration, validated in one place (the CLI passes flags through unchanged). */
import { homedir, hostname } from 'node:os'
import { join } from 'node:path'
import { type LinkShape, multiaddr } from '@atoll/net'
import { DEVICES, type DeviceChoice } from './capabilities.ts'
import { PeerConfigError } from './errors.ts'

export interface PeerConfig {
  dataDir: string
  listen: string[]
  announce: string[]
  bootstrap: string[]
  device: DeviceChoice
  name: string
  relay: boolean
  mdns: boolean
  /** Prometheus endpoint; absent: no HTTP server. */
  metrics?: { host: string; port: number }
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error'
  /** Time budget of each link probe, seconds. */
  probeSeconds: number
  /** Emulated links: `peer` is a peer id or `*` for every peer without a link of its own. */
  links: { peer: string; shape: LinkShape }[]
  /** How long SIGINT/SIGTERM waits for transfers in flight before aborting them, ms. */
  graceMs: number
}

/** Where a peer keeps its identity and state unless told otherwise. */
export function defaultDataDir(): string {
  return join(homedir(), '.atoll', 'peer')
}

export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws']

export interface PeerOptions {
  dataDir?: string
  listen?: string[]
  announce?: string[]
  bootstrap?: string[]
  device?: string
  name?: string
  relay?: boolean
  mdns?: boolean
  metricsPort?: string
  logLevel?: string
  probeSeconds?: number
  links?: string[]
  graceMs?: number
}

/** Fills defaults and validates every field; throws PeerConfigError naming the bad one. */
export function resolveConfig(o: PeerOptions = {}): PeerConfig {
  const device = o.device ?? 'auto'
  if (device !== 'auto' && !(DEVICES as readonly string[]).includes(device)) {
    throw new PeerConfigError(`--device must be auto, ${DEVICES.join(', ')}; got '${device}'`)
  }
  const logLevel = o.logLevel ?? 'info'
  if (!['trace', 'debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new PeerConfigError(`--log-level must be trace, debug, info, warn or error; got '${logLevel}'`)
  }
  const probeSeconds = o.probeSeconds ?? 1
  if (!(probeSeconds > 0 && probeSeconds <= 60)) {
    throw new PeerConfigError(`--probe-seconds must be in (0, 60], got ${probeSeconds}`)
  }
  return {
    dataDir: o.dataDir ?? defaultDataDir(),
    listen: addrs('--listen', o.listen ?? DEFAULT_LISTEN),
    announce: addrs('--announce', o.announce ?? []),
    bootstrap: addrs('--bootstrap', o.bootstrap ?? [], true),
    device: device as DeviceChoice,
    name: o.name ?? hostname(),
    relay: o.relay ?? false,
    mdns: o.mdns ?? false,
    metrics: o.metricsPort === undefined ? undefined : parseHostPort(o.metricsPort),
    logLevel: logLevel as PeerConfig['logLevel'],
    probeSeconds,
    links: (o.links ?? []).map(parseLinkSpec),
    graceMs: o.graceMs ?? 10_000,
  }
}

/** Multiaddrs given as repeated flags or comma-separated; `withPeer`: each must end in /p2p/<id>. */
function addrs(flag: string, values: string[], withPeer = false): string[] {
  const out = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '')
  for (const a of out) {
    try {
      multiaddr(a)
    } catch (err) {
      throw new PeerConfigError(`${flag} '${a}' is not a multiaddr: ${(err as Error).message}`)
    }
    if (withPeer && !/\/p2p\/\w+$/.test(a))
      throw new PeerConfigError(`${flag} '${a}' must end in /p2p/<peer id>`)
  }
  return out
}

/** `9464` (loopback only) or `HOST:9464`. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(value)
  const port = m === null ? Number.NaN : Number(m[2])
  if (m === null || port > 65535)
    throw new PeerConfigError(`--metrics-port must be PORT or HOST:PORT, got '${value}'`)
  return { host: m[1] ?? '127.0.0.1', port }
}

const RATE_UNITS: Record<string, number> = {
  bit: 1 / 8,
  kbit: 1e3 / 8,
  mbit: 1e6 / 8,
  gbit: 1e9 / 8,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
}

/** `[PEER=]RATE[,DELAY]`: `100mbit`, `*=1gbit,20ms`, `12D3Koo…=2.5MB,80ms` (rates per second, tc-style units). */
export function parseLinkSpec(spec: string): { peer: string; shape: LinkShape } {
  const m = /^(?:([^=]+)=)?([\d.]+)([a-z]+)(?:,([\d.]+)ms)?$/i.exec(spec.trim())
  const unit = m === null ? undefined : RATE_UNITS[m[3].toLowerCase()]
  const rate = m === null || unit === undefined ? Number.NaN : Number(m[2]) * unit
  const delayMs = m?.[4] === undefined ? 0 : Number(m[4])
  if (!(rate > 0) || !Number.isFinite(rate) || !Number.isFinite(delayMs)) {
    throw new PeerConfigError(
      `--emulate-link '${spec}' must look like [PEER=]RATE[,DELAYms] with RATE in bit|kbit|mbit|gbit|b|kb|mb|gb, e.g. 100mbit,20ms`,
    )
  }
  return { peer: m?.[1] ?? '*', shape: { rateBytesPerSecond: rate, delayMs } }
}
