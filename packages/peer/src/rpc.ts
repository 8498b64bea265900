/**
 * The ctrl methods a peer daemon serves, with their schemas: what `atoll peers` and other peers may ask
 * it. Shared by the daemon (server) and the CLI (client), so both sides parse the same shapes. Every
 * string and list has a bound, so a hostile answer cannot make the caller hold more than it meant to.
 */
import { ctrlMethod } from '@atoll/net'
import * as z from 'zod/mini'

const text = (maxLength: number) => z.string().check(z.maxLength(maxLength))
const list = <T extends z.ZodMiniType>(item: T, maxLength: number) =>
  z.array(item).check(z.maxLength(maxLength))
const atLeast = (min: number) => z.number().check(z.gte(min))
const countOf = (min: number) => z.int().check(z.gte(min))

const name = text(256)
const addresses = list(text(1024), 64)

const deviceInfo = z.object({
  kind: text(32),
  available: z.boolean(),
  detail: text(1024),
})

const capabilityReport = z.object({
  peerId: name,
  name,
  /** the execution provider this peer computes on */
  device: text(32),
  /** FLOP/s measured on the calibration MatMul on `device` */
  flops: atLeast(0),
  calibration: z.object({ side: countOf(1), runs: countOf(1) }),
  devices: list(deviceInfo, 16),
  memory: z.object({ totalBytes: atLeast(0), freeBytes: atLeast(0) }),
  cpu: z.object({ model: text(256), cores: countOf(1) }),
  /** the machine it runs on (the kernel's boot id): daemons with the same one share its cores */
  host: z.optional(text(128)),
  versions: z.object({ atoll: name, node: name, onnxruntime: name }),
  protocols: list(name, 64),
  measuredAt: atLeast(0),
})

export type CapabilityReport = z.infer<typeof capabilityReport>
export type DeviceInfo = z.infer<typeof deviceInfo>

const peerSummary = z.object({
  peerId: name,
  name: z.optional(name),
  addresses,
  connected: z.boolean(),
  device: z.optional(text(32)),
  flops: z.optional(atLeast(0)),
  rttMs: z.optional(atLeast(0)),
  bytesPerSecond: z.optional(atLeast(0)),
  probedAt: z.optional(atLeast(0)),
  error: z.optional(text(1024)),
})

export type PeerSummary = z.infer<typeof peerSummary>

const empty = z.object({})

/** The peer's capability report. */
export const capabilitiesMethod = ctrlMethod('atoll.capabilities', empty, capabilityReport)

/** The peers this peer knows, with what it measured of them; also how peers find each other (exchange). */
export const peersMethod = ctrlMethod(
  'atoll.peers',
  empty,
  z.object({
    self: z.object({ peerId: name, name, addresses }),
    peers: list(peerSummary, 4096),
  }),
)

export type PeersAnswer = z.infer<typeof peersMethod.response>
