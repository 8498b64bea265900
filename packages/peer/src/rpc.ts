/**
 * The ctrl methods a peer daemon serves, with their schemas: what `atoll peers` and other peers may ask
 * it. Shared by the daemon (server) and the CLI (client), so both sides parse the same shapes.
 */
import { ctrlMethod, schema as s } from '@atoll/net'

const name = s.string({ maxLength: 256 })
const addresses = s.array(s.string({ maxLength: 1024 }), { maxLength: 64 })

export const deviceInfo = s.object({
  kind: s.string({ maxLength: 32 }),
  available: s.boolean(),
  detail: s.string({ maxLength: 1024 }),
})

export const capabilityReport = s.object({
  peerId: name,
  name,
  /** the execution provider this peer computes on */
  device: s.string({ maxLength: 32 }),
  /** FLOP/s measured on the calibration MatMul on `device` */
  flops: s.number({ min: 0 }),
  calibration: s.object({
    side: s.number({ min: 1, integer: true }),
    runs: s.number({ min: 1, integer: true }),
  }),
  devices: s.array(deviceInfo, { maxLength: 16 }),
  memory: s.object({ totalBytes: s.number({ min: 0 }), freeBytes: s.number({ min: 0 }) }),
  cpu: s.object({ model: s.string({ maxLength: 256 }), cores: s.number({ min: 1, integer: true }) }),
  versions: s.object({ atoll: name, node: name, onnxruntime: name }),
  protocols: s.array(name, { maxLength: 64 }),
  measuredAt: s.number({ min: 0 }),
})

export type CapabilityReport = s.Infer<typeof capabilityReport>
export type DeviceInfo = s.Infer<typeof deviceInfo>

export const peerSummary = s.object({
  peerId: name,
  name: s.optional(name),
  addresses,
  connected: s.boolean(),
  device: s.optional(s.string({ maxLength: 32 })),
  flops: s.optional(s.number({ min: 0 })),
  rttMs: s.optional(s.number({ min: 0 })),
  bytesPerSecond: s.optional(s.number({ min: 0 })),
  probedAt: s.optional(s.number({ min: 0 })),
  error: s.optional(s.string({ maxLength: 1024 })),
})

export type PeerSummary = s.Infer<typeof peerSummary>

const empty = s.object({})

/** The peer's capability report. */
export const capabilitiesMethod = ctrlMethod('atoll.capabilities', empty, capabilityReport)

/** The peers this peer knows, with what it measured of them; also how peers find each other (exchange). */
export const peersMethod = ctrlMethod(
  'atoll.peers',
  empty,
  s.object({
    self: s.object({ peerId: name, name, addresses }),
    peers: s.array(peerSummary, { maxLength: 4096 }),
  }),
)

export type PeersAnswer = s.Infer<typeof peersMethod.response>
