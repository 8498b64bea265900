#!/usr/bin/env node
/**
 * `node mesh-tool-main.ts probe MULTIADDR SECONDS` prints `{"mbit","rttMs"}`;
 * `node mesh-tool-main.ts echo BYTES MULTIADDR…` prints one `{"target","bytes","seconds"}` per target.
 */
import { echoExchange, probeDaemon } from './mesh-tool.ts'

const ECHO_TIMEOUT_MS = 60_000
const [mode, ...rest] = process.argv.slice(2)
if (mode === 'probe' && rest.length === 2 && Number(rest[1]) > 0) {
  console.log(JSON.stringify(await probeDaemon(rest[0], Number(rest[1]))))
} else if (mode === 'echo' && rest.length >= 2 && Number.isInteger(Number(rest[0])) && Number(rest[0]) > 0) {
  for (const r of await echoExchange(rest.slice(1), Number(rest[0]), ECHO_TIMEOUT_MS))
    console.log(JSON.stringify(r))
} else {
  console.error('usage: mesh-tool-main.ts probe MULTIADDR SECONDS | echo BYTES MULTIADDR…')
  process.exit(2)
}
// libp2p may leave timers behind; the answer is printed, so leave now.
process.exit(0)
