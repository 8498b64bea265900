/**
 * A federation's status as its server's page shows it (`atoll fl serve --web` serves it as JSON at
 * `federation.json` beside the page, and the page polls it): the federation and its strategy, the
 * addresses a browser joins at, the phase and round, every client that joined with its measured
 * bandwidth and what became of it in its last round (keep ratio, upload size and predicted time, when
 * its update came), and the held-out accuracy after each round. Peer's FederationBoard writes it;
 * the page reads it through this schema, as it reads anything from the network. Browser-safe.
 */
import * as z from 'zod/mini'
import { FL_STRATEGIES } from './aggregate.ts'
import { MAX_FL_ROUNDS } from './wire.ts'

const count = (max: number) => z.int().check(z.gte(0), z.lte(max))
const seconds = z.number().check(z.gte(0))
/** Far more than one page needs to draw; a larger list is not a real server's. */
const MAX_ROWS = 100_000

const lastRound = z.object({
  round: count(MAX_FL_ROUNDS),
  keepRatio: z.number().check(z.gt(0), z.lte(1)),
  status: z.enum(['waiting', 'accepted', 'rejected', 'dropped']),
  /** payload bytes of its update */
  bytes: z.optional(count(2 ** 42)),
  /** bytes / bandwidth: the upload time its measured bandwidth predicts */
  uploadSeconds: z.optional(seconds),
  /** from the round's start until its update was in (training, upload and waiting included) */
  arrivedAfterSeconds: z.optional(seconds),
  reason: z.optional(z.string().check(z.maxLength(2048))),
})

const clientRow = z.object({
  client: z.string().check(z.maxLength(128)),
  samples: count(2 ** 31),
  /** measured upload bandwidth, bytes per second */
  bandwidthBps: z.number().check(z.gt(0)),
  /** joined and not left */
  present: z.boolean(),
  last: z.optional(lastRound),
})

const accuracyPoint = z.object({
  /** rounds finished when the model was scored (0: the initial model) */
  afterRounds: count(MAX_FL_ROUNDS),
  accuracy: z.number().check(z.gte(0), z.lte(1)),
  loss: z.number(),
})

export const federationStatus = z.object({
  federation: z.string().check(z.maxLength(64)),
  strategy: z.enum(FL_STRATEGIES as [string, ...string[]]),
  /** rounds the federation runs in all */
  rounds: count(MAX_FL_ROUNDS),
  /** waiting: for clients; round: one is open; done: every round has run (or the server stopped) */
  phase: z.enum(['starting', 'waiting', 'round', 'done']),
  /** the round open, or the next one */
  round: count(MAX_FL_ROUNDS),
  /** multiaddrs a browser joins at (WebSockets, ending in /p2p/<id>) */
  joinAddresses: z.array(z.string().check(z.maxLength(1024))).check(z.maxLength(64)),
  clients: z.array(clientRow).check(z.maxLength(MAX_ROWS)),
  accuracy: z.array(accuracyPoint).check(z.maxLength(MAX_ROWS)),
})
export type FederationStatus = z.infer<typeof federationStatus>
export type FederationClientRow = z.infer<typeof clientRow>
