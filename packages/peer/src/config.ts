/** The daemon's configuration, validated in one place (the CLI passes flags through unchanged). */
import { readFileSync } from 'node:fs'
import { homedir, hostname } from 'node:os'
import { join } from 'node:path'
import { parseWith } from '@atoll/core'
import { type LinkShape, multiaddr, peerIdFromString } from '@atoll/net'
import * as z from 'zod/mini'
import { DEVICES, type DeviceChoice } from './capabilities.ts'
import { PeerConfigError } from './errors.ts'
import { type AllowList, DEFAULT_JOB_TIMEOUT_MS } from './job/worker.ts'

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
  /** The coordinators this peer takes stages from: `--allow` and `--allow-file`; empty: none. */
  allow: AllowList
  /** A job whose coordinator has sent nothing for this long is dropped, seconds. */
  jobTimeoutSeconds: number
  /** The memory this peer offers to jobs, bytes (`--memory`; default all of it): its capability report says no more. */
  memoryBytes?: number
  /** onnxruntime's threads per session run (`--threads`; default onnxruntime's choice, one per core) */
  computeThreads?: number
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
  /** peer ids (repeated or comma-separated), or `any` alone */
  allow?: string[]
  /** a file of peer ids, one a line, `#` comments */
  allowFile?: string
  jobTimeoutSeconds?: number
  /** `8gb`, `512mib`: what the peer offers to jobs */
  memory?: string
  /** onnxruntime's threads per session run */
  threads?: number
}

/** The flag of each option, so that an error names what the user typed (options without a flag keep their name). */
const FLAGS: Record<string, string> = {
  dataDir: '--data-dir',
  listen: '--listen',
  announce: '--announce',
  bootstrap: '--bootstrap',
  device: '--device',
  name: '--name',
  metricsPort: '--metrics-port',
  logLevel: '--log-level',
  probeSeconds: '--probe-seconds',
  links: '--emulate-link',
  allow: '--allow',
  allowFile: '--allow-file',
  jobTimeoutSeconds: '--job-timeout',
  memory: '--memory',
  threads: '--threads',
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const

const address = z.string().check(
  z.superRefine((text, ctx) => {
    try {
      multiaddr(text)
    } catch (err) {
      ctx.issues.push({ code: 'custom', input: text, message: `a multiaddr (${(err as Error).message})` })
    }
  }),
)
/** A peer to dial: `--bootstrap` and a job file's `peers`. */
export const peerAddress = address.check(
  z.regex(/\/p2p\/\w+$/, { error: 'a multiaddr ending in /p2p/<peer id>' }),
)

const PEER_ID = 'a libp2p peer id (12D3KooW…, Qm… or a CID)'

/** A peer id, turned into the text the mesh names that peer by (a CID becomes its base58 form). */
export const peerIdText = z.pipe(
  z.string(),
  z.transform((text, ctx) => {
    try {
      return peerIdFromString(text).toString()
    } catch {
      ctx.issues.push({ code: 'custom', input: text, message: PEER_ID })
      return z.NEVER
    }
  }),
)

/** `--allow any` takes stages from every coordinator; it must be said on its own, never implied. */
const ALLOW_ANY = 'any'

const allowEntry = z.pipe(
  z.string(),
  z.transform((text, ctx): string => {
    if (text === ALLOW_ANY) return text
    const id = peerIdText.safeParse(text)
    if (id.success) return id.data
    ctx.issues.push({ code: 'custom', input: text, message: `"${ALLOW_ANY}" or ${PEER_ID}` })
    return z.NEVER
  }),
)

/**
 * A week: far beyond any step, and inside setTimeout's range (2^31 ms, 24.8 days), past which a
 * timer would fire at once.
 */
const MAX_JOB_TIMEOUT_SECONDS = 7 * 86_400

/**
 * `9464` (loopback only) or `HOST:9464`. Port 0 asks for a free port: the daemon prints the URL it
 * got and records it in its state file, which is how tests and several daemons on one host use it.
 */
const metricsAddress = z.pipe(
  z.string(),
  z.transform((text, ctx) => {
    const m = /^(?:(.+):)?(\d{1,5})$/.exec(text)
    const port = Number(m?.[2])
    if (m !== null && port <= 65535) return { host: m[1] ?? '127.0.0.1', port }
    ctx.issues.push({ code: 'custom', input: text, message: 'PORT or HOST:PORT with PORT in [0, 65535]' })
    return z.NEVER
  }),
)

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
const LINK_SPEC =
  '[PEER=]RATE[,DELAYms], RATE > 0 in bit, kbit, mbit, gbit, b, kb, mb or gb per second (e.g. 100mbit,20ms)'

/** `[PEER=]RATE[,DELAY]`: `100mbit`, `*=1gbit,20ms`, `12D3Koo…=2.5MB,80ms` (tc-style units). */
const linkSpec = z.pipe(
  z.string(),
  z.transform((text, ctx): { peer: string; shape: LinkShape } => {
    const m = /^(?:([^=]+)=)?([\d.]+)([a-z]+)(?:,([\d.]+)ms)?$/i.exec(text.trim())
    const unit = m === null ? undefined : RATE_UNITS[m[3].toLowerCase()]
    const rate = m === null || unit === undefined ? Number.NaN : Number(m[2]) * unit
    const delayMs = m?.[4] === undefined ? 0 : Number(m[4])
    if (rate > 0 && Number.isFinite(rate) && Number.isFinite(delayMs))
      return { peer: m?.[1] ?? '*', shape: { rateBytesPerSecond: rate, delayMs } }
    ctx.issues.push({ code: 'custom', input: text, message: LINK_SPEC })
    return z.NEVER
  }),
)

const MEMORY_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
}
const MEMORY_SPEC = 'SIZE in b, kb, mb, gb, kib, mib or gib, at least 1 MiB (e.g. 8gb, 512mib)'

/** `8gb`, `512mib`: a memory size in bytes, at least 1 MiB. */
const memorySize = z.pipe(
  z.string(),
  z.transform((text, ctx): number => {
    const m = /^([\d.]+)([a-z]+)$/i.exec(text.trim())
    const unit = m === null ? undefined : MEMORY_UNITS[m[2].toLowerCase()]
    const bytes = m === null || unit === undefined ? Number.NaN : Math.floor(Number(m[1]) * unit)
    if (Number.isSafeInteger(bytes) && bytes >= 2 ** 20) return bytes
    ctx.issues.push({ code: 'custom', input: text, message: MEMORY_SPEC })
    return z.NEVER
  }),
)

const peerOptions = z.object({
  dataDir: z.optional(z.string().check(z.minLength(1))),
  listen: z.optional(z.array(address)),
  announce: z.optional(z.array(address)),
  bootstrap: z.optional(z.array(peerAddress)),
  device: z.optional(z.enum(['auto', ...DEVICES])),
  // the capability report other peers parse allows 256 characters
  name: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  relay: z.optional(z.boolean()),
  mdns: z.optional(z.boolean()),
  metricsPort: z.optional(metricsAddress),
  logLevel: z.optional(z.enum(LOG_LEVELS)),
  probeSeconds: z.optional(z.number().check(z.gt(0), z.lte(60))),
  links: z.optional(z.array(linkSpec)),
  graceMs: z.optional(z.number().check(z.gte(0))),
  allow: z.optional(z.array(allowEntry)),
  allowFile: z.optional(z.string().check(z.minLength(1))),
  jobTimeoutSeconds: z.optional(z.number().check(z.gt(0), z.lte(MAX_JOB_TIMEOUT_SECONDS))),
  memory: z.optional(memorySize),
  threads: z.optional(z.int().check(z.gte(1), z.lte(1024))),
})

/** Fills defaults and validates every field; throws PeerConfigError naming the bad one by its flag. */
export function resolveConfig(options: PeerOptions = {}): PeerConfig {
  const o = parseWith(
    peerOptions,
    {
      ...options,
      listen: list(options.listen),
      announce: list(options.announce),
      bootstrap: list(options.bootstrap),
      allow: list(options.allow),
    },
    (problem) => {
      const key = String(problem.keys[0] ?? '')
      return new PeerConfigError(
        `${FLAGS[key] ?? problem.path}: expected ${problem.expected}, found ${problem.found}`,
      )
    },
  )
  return {
    dataDir: o.dataDir ?? defaultDataDir(),
    listen: o.listen ?? DEFAULT_LISTEN,
    announce: o.announce ?? [],
    bootstrap: o.bootstrap ?? [],
    device: o.device ?? 'auto',
    name: o.name ?? hostname(),
    relay: o.relay ?? false,
    mdns: o.mdns ?? false,
    metrics: o.metricsPort,
    logLevel: o.logLevel ?? 'info',
    probeSeconds: o.probeSeconds ?? 1,
    links: o.links ?? [],
    graceMs: o.graceMs ?? 10_000,
    allow: allowList(o.allow ?? [], o.allowFile),
    jobTimeoutSeconds: o.jobTimeoutSeconds ?? DEFAULT_JOB_TIMEOUT_MS / 1000,
    ...(o.memory === undefined ? {} : { memoryBytes: o.memory }),
    ...(o.threads === undefined ? {} : { computeThreads: o.threads }),
  }
}

/** `--allow` and `--allow-file` as one list; `any` must stand alone, or which of the two was meant? */
function allowList(flagged: string[], file: string | undefined): AllowList {
  const ids = [
    ...flagged.filter((id) => id !== ALLOW_ANY),
    ...(file === undefined ? [] : readAllowFile(file)),
  ]
  if (!flagged.includes(ALLOW_ANY)) return new Set(ids)
  if (ids.length > 0)
    throw new PeerConfigError(
      `--allow: "${ALLOW_ANY}" accepts every coordinator and cannot be combined with peer ids, found ${ids.length} beside it`,
    )
  return ALLOW_ANY
}

/** The peer ids of an allow file: one a line, blank lines and `#` comments skipped; an error names the line. */
function readAllowFile(path: string): string[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new PeerConfigError(`--allow-file: cannot read ${path}: ${(err as Error).message}`)
  }
  return text.split('\n').flatMap((line, index) => {
    const entry = line.replace(/#.*/, '').trim()
    if (entry === '') return []
    const where = `--allow-file ${path}:${index + 1}`
    return [
      parseWith(
        peerIdText,
        entry,
        (p) => new PeerConfigError(`${where}: expected ${p.expected}, found ${p.found}`),
      ),
    ]
  })
}

/** Multiaddrs given as repeated flags or comma-separated, as one list. */
function list(values: string[] | undefined): string[] | undefined {
  return values
    ?.flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '')
}
