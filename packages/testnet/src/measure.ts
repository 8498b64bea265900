import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import * as z from 'zod/mini'
import { MeasureError } from './errors.ts'
import { parseOutput } from './sh.ts'
import type { TcpResult } from './tcp-tool.ts'

/** How to run a command "on" a peer: `ip netns exec atoll-us1 …` or `docker exec atoll-us1 …`. */
export interface PeerShell {
  /** The argv prefix that runs what follows inside the peer. */
  prefix: string[]
  /** The argv that starts the TCP tool there (node and the script, as seen from inside). */
  tcpTool: string[]
}

export const localTcpTool = [process.execPath, fileURLToPath(new URL('./tcp-tool-main.ts', import.meta.url))]

const amount = z.number().check(z.nonnegative())
/** What the TCP tool's receiver prints: that it listens, then its result. */
const receiverLine = z.union([
  z.object({ listening: z.literal(true) }),
  z.object({ bytes: amount, seconds: amount, mbit: amount }),
])

/** The port the measurement receiver listens on; outside the range the peers use. */
export const MEASURE_PORT = 5201
/** A measurement that has not finished by then is stuck (a broken link), not slow. */
const TIMEOUT_GRACE_MS = 15_000

/**
 * Raw TCP throughput from one peer to another (`toAddress` as seen from the sender) over `seconds`.
 * The receiver is started first and the sender only once it listens, so no attempt is wasted.
 */
export async function measureTcp(
  from: PeerShell,
  to: PeerShell,
  toAddress: string,
  seconds: number,
): Promise<TcpResult> {
  const recv = spawn(
    to.prefix[0],
    [...to.prefix.slice(1), ...to.tcpTool, 'recv', '0.0.0.0', String(MEASURE_PORT)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stderr = ''
  recv.stderr.on('data', (d) => {
    stderr += d
  })
  const timer = setTimeout(() => recv.kill('SIGKILL'), seconds * 1000 + TIMEOUT_GRACE_MS)
  try {
    const lines = createInterface({ input: recv.stdout })
    let result: TcpResult | undefined
    for await (const line of lines) {
      const msg = parseOutput(['tcp-tool', 'recv'], line, receiverLine)
      if ('listening' in msg) startSender(from, toAddress, seconds)
      else result = msg
    }
    if (result === undefined || result.bytes === 0) {
      throw new MeasureError(
        `no data reached ${toAddress}:${MEASURE_PORT} (${stderr.trim() || 'receiver said nothing'})`,
      )
    }
    return result
  } finally {
    clearTimeout(timer)
    recv.kill()
  }
}

function startSender(from: PeerShell, toAddress: string, seconds: number): void {
  const argv = [...from.prefix, ...from.tcpTool, 'send', toAddress, String(MEASURE_PORT), String(seconds)]
  const send = spawn(argv[0], argv.slice(1), { stdio: 'ignore' })
  send.on('error', () => {})
}
