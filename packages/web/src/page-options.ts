/**
 * What the page's address asks for (`?autostart=1&steps=50&lr=0.1`, or `?server=<multiaddr>` to join
 * a federation): untrusted text like any other input, parsed with a zod/mini schema through core's
 * parseWith. An unknown parameter is refused, so a typo (`step=50`) is named rather than silently
 * ignored.
 */
import { parseWith } from '@atoll/core'
import { iceServerList, multiaddr } from '@atoll/net'
import * as z from 'zod/mini'
import { PAGE_DEFAULTS } from './constants.ts'
import { PageOptionsError } from './errors.ts'

/** Bounds that keep a mistyped address from asking a tab for hours of work or gigabytes. */
const MAX_STEPS = 100_000
const MAX_BATCH = 4096
const MAX_THREADS = 64

/** A number typed in an address; a blank is NaN (`Number('')` is 0), which every bound refuses. */
const numberText = z.pipe(
  z.string(),
  z.transform((text: string) => (text.trim() === '' ? Number.NaN : Number(text))),
)
const int = (min: number, max: number) =>
  z.optional(z.pipe(numberText, z.int().check(z.gte(min), z.lte(max))))

/** The models the page trains: the image classifiers of the zoo that fit the sample shard. */
export const PAGE_MODELS = ['mlp', 'mnist-cnn'] as const
export const PAGE_BACKENDS = ['auto', 'wasm', 'webgpu'] as const

const pageQuery = z.strictObject({
  autostart: z.optional(z.enum(['0', '1'])),
  model: z.optional(z.enum(PAGE_MODELS)),
  steps: int(1, MAX_STEPS),
  batch: int(1, MAX_BATCH),
  lr: z.optional(z.pipe(numberText, z.number().check(z.positive()))),
  seed: int(0, 2 ** 31 - 1),
  backend: z.optional(z.enum(PAGE_BACKENDS)),
  threads: int(1, MAX_THREADS),
  server: z.optional(z.string().check(z.maxLength(1024))),
  stun: z.optional(z.string().check(z.maxLength(1024))),
})

export interface PageOptions {
  /** start training when the page loads, without a click */
  autostart: boolean
  model: (typeof PAGE_MODELS)[number]
  /** local steps */
  steps: number
  batch: number
  lr: number
  /** the model's initialisation and the batches' shuffle */
  seed: number
  backend: (typeof PAGE_BACKENDS)[number]
  /** wasm threads (default onnxruntime-web's choice) */
  threads?: number
  /**
   * a federated server to join (a WebSockets multiaddr ending in /p2p/<id>, or WebRTC through a relay
   * the page reaches over WebSockets): the page then trains in its rounds, with the model and steps
   * the server sets, instead of `model`, `steps`, `batch` and `lr`
   */
  server?: string
  /**
   * STUN/TURN servers for WebRTC (`?stun=stun:host:3478,…`, or `none` on a LAN); default
   * libp2p's public STUN list
   */
  iceServers?: string[]
}

/** The options a query string (`?a=1&b=2`, or without the `?`) asks for, with the defaults for the rest. */
export function pageOptions(query: string): PageOptions {
  const params = new URLSearchParams(query)
  const given: Record<string, string> = {}
  for (const [key, value] of params) {
    if (key in given) throw new PageOptionsError(`the address gives '${key}' twice`)
    given[key] = value
  }
  const parsed = parseWith(
    pageQuery,
    given,
    (problem) => new PageOptionsError(`the page's address: ${problem.message}`),
  )
  return {
    autostart: parsed.autostart === '1',
    model: parsed.model ?? PAGE_DEFAULTS.model,
    steps: parsed.steps ?? PAGE_DEFAULTS.steps,
    batch: parsed.batch ?? PAGE_DEFAULTS.batch,
    lr: parsed.lr ?? PAGE_DEFAULTS.lr,
    seed: parsed.seed ?? PAGE_DEFAULTS.seed,
    backend: parsed.backend ?? PAGE_DEFAULTS.backend,
    ...(parsed.threads !== undefined ? { threads: parsed.threads } : {}),
    ...(parsed.server !== undefined ? { server: checkServer(parsed.server) } : {}),
    ...(parsed.stun !== undefined ? { iceServers: iceServers(parsed.stun) } : {}),
  }
}

/** `none`, or a comma-separated list of `stun:`/`turn:`/`turns:` URLs. */
function iceServers(text: string): string[] {
  try {
    return iceServerList(text)
  } catch (err) {
    throw new PageOptionsError(`the address's stun: ${(err as Error).message}`)
  }
}

/**
 * A server address the page can dial: a multiaddr over WebSockets that names the server's peer id,
 * either the server's own or a relay's followed by `/p2p-circuit/webrtc/p2p/<server id>` (the page
 * then reaches the server over WebRTC, signalled through the relay).
 */
export function checkServer(address: string): string {
  let parts: string[]
  try {
    parts = multiaddr(address)
      .getComponents()
      .map((c) => c.name)
  } catch (err) {
    throw new PageOptionsError(
      `the address's server '${address}' is not a multiaddr: ${(err as Error).message}`,
    )
  }
  if (!parts.includes('ws') && !parts.includes('wss'))
    throw new PageOptionsError(
      `the server '${address}' is not a WebSockets address (…/tcp/P/ws): a browser dials no other`,
    )
  if (parts.at(-1) !== 'p2p')
    throw new PageOptionsError(`the server '${address}' must end in /p2p/<the server's peer id>`)
  const circuit = parts.indexOf('p2p-circuit')
  if (circuit >= 0 && parts[circuit + 1] !== 'webrtc')
    throw new PageOptionsError(
      `the server '${address}' is reached through a relay without WebRTC: the relay limits that connection, ` +
        'and federated rounds need a direct one (…/p2p-circuit/webrtc/p2p/<id>)',
    )
  return address
}
