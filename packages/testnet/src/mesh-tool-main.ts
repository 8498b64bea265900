#!/usr/bin/env node
/**
 * `node mesh-tool-main.ts links JSON` prints one `{"from","to","specMbit","mbit","rttMs"}` per link as
 * it is measured, JSON being `{"seconds","retries","daemons":[MULTIADDR…],"links":[{"from","to","specMbit"}…]}`;
 * `node mesh-tool-main.ts hold JSON` holds the probe floor of `{"daemons":[MULTIADDR…],"seconds"}`, prints
 * `{"held":true}`, and gives it back when its stdin closes (or after `seconds`);
 * `node mesh-tool-main.ts echo BYTES MULTIADDR…` prints one `{"target","bytes","seconds"}` per target.
 */
import { parseWith } from '@atoll/core'
import { MAX_RUN_SECONDS } from '@atoll/net'
import * as z from 'zod/mini'
import { MeasureError } from './errors.ts'
import { echoExchange, holdFloor, measureOnFloor } from './mesh-tool.ts'

const ECHO_TIMEOUT_MS = 60_000
const address = z.string().check(z.maxLength(1024), z.regex(/^\//))
const daemons = z.array(address).check(z.minLength(1), z.maxLength(1024))
const linksRequest = z.object({
  seconds: z.number().check(z.gt(0), z.lte(MAX_RUN_SECONDS)),
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
    const request = parseWith(linksRequest, JSON.parse(rest[0]), MeasureError, { root: 'links request' })
    await measureOnFloor(request.daemons, request.links, {
      ...request,
      onLink: (figures) => console.log(JSON.stringify(figures)),
    })
  } else if (mode === 'hold' && rest.length === 1) {
    const request = parseWith(holdRequest, JSON.parse(rest[0]), MeasureError, { root: 'hold request' })
    const done = new Promise<void>((resolve) => process.stdin.on('close', resolve).resume())
    await holdFloor(request.daemons, {
      maxSeconds: request.seconds,
      done,
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
