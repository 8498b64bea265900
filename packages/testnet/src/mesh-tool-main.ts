#!/usr/bin/env node
/**
 * `node mesh-tool-main.ts links JSON` prints one `{"from","to","specMbit","mbit","firstMbit","rttMs"}`
 * per link as it is measured, JSON being
 * `{"seconds","retries","daemons":[MULTIADDR…],"links":[{"from","to","specMbit"}…]}`;
 * `node mesh-tool-main.ts hold JSON` holds the probe floor of `{"daemons":[MULTIADDR…],"seconds"}`, prints
 * `{"held":true}`, and gives it back when its stdin closes (or after `seconds`);
 * `node mesh-tool-main.ts echo BYTES MULTIADDR…` prints one `{"target","bytes","seconds"}` per target.
 * `links` and `hold` stop, giving the floor back, when stdin closes (the CLI went away) or on SIGINT
 * or SIGTERM. How long a daemon may probe is the CLI's to check (and the daemon's own schema's).
 */
import { parseJson, parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import { MeasureError } from './errors.ts'
import { echoExchange, holdFloor, measureOnFloor } from './mesh-tool.ts'

const ECHO_TIMEOUT_MS = 60_000
const address = z.string().check(z.maxLength(1024), z.regex(/^\//))
const daemons = z.array(address).check(z.minLength(1), z.maxLength(1024))
const linksRequest = z.object({
  seconds: z.number().check(z.gt(0)),
  retries: z.int().check(z.gte(0), z.lte(10)),
  daemons,
  links: z.array(z.object({ from: address, to: address, specMbit: z.number().check(z.gt(0)) })),
})

const holdRequest = z.object({
  daemons,
  seconds: z.number().check(z.gt(0), z.lte(3600)),
})

const [mode, ...rest] = process.argv.slice(2)
try {
  await main()
} catch (err) {
  // the CLI shows the end of stderr: the error itself, not a stack trace
  console.error(`${(err as Error).name}: ${(err as Error).message}`)
  process.exit(1)
}
// libp2p may leave timers behind; the answer is printed, so leave now.
process.exit(0)

async function main(): Promise<void> {
  if (mode === 'links' && rest.length === 1) {
    const request = parseRequest(linksRequest, rest[0], 'links request')
    await measureOnFloor(request.daemons, request.links, {
      ...request,
      cancel: cancelled(),
      onLink: (figures) => console.log(JSON.stringify(figures)),
    })
  } else if (mode === 'hold' && rest.length === 1) {
    const request = parseRequest(holdRequest, rest[0], 'hold request')
    const cancel = cancelled()
    await holdFloor(request.daemons, {
      maxSeconds: request.seconds,
      done: new Promise((resolve) => cancel.addEventListener('abort', () => resolve())),
      cancel,
      onHeld: () => console.log(JSON.stringify({ held: true })),
    })
  } else if (
    mode === 'echo' &&
    rest.length >= 2 &&
    Number.isInteger(Number(rest[0])) &&
    Number(rest[0]) > 0
  ) {
    for (const r of await echoExchange(rest.slice(1), Number(rest[0]), ECHO_TIMEOUT_MS))
      console.log(JSON.stringify(r))
  } else {
    console.error('usage: mesh-tool-main.ts links JSON | hold JSON | echo BYTES MULTIADDR…')
    process.exit(2)
  }
}

function parseRequest<S extends z.ZodMiniType>(schema: S, text: string, what: string): z.output<S> {
  return parseWith(schema, parseJson(text, what, MeasureError), MeasureError, { root: what })
}

/**
 * Aborts when stdin closes (the CLI that started this exited, also when it was killed) or on SIGINT or
 * SIGTERM: the floor is given back then, not held until its lease runs out.
 */
function cancelled(): AbortSignal {
  const controller = new AbortController()
  const stop = (why: string) => () =>
    controller.abort(new MeasureError(`the measurement was stopped: ${why}`))
  process.stdin.on('close', stop('its caller went away (stdin closed)')).resume()
  process.once('SIGINT', stop('SIGINT'))
  process.once('SIGTERM', stop('SIGTERM'))
  return controller.signal
}
