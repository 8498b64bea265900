#!/usr/bin/env node
/**
 * `node mesh-tool-main.ts probe SECONDS MULTIADDR…` prints one `{"mbit","rttMs"}` per target;
 * `node mesh-tool-main.ts echo BYTES MULTIADDR…` prints one `{"target","bytes","seconds"}` per target.
 */
import { echoExchange, probeDaemons } from './mesh-tool.ts'

const ECHO_TIMEOUT_MS = 60_000
const [mode, ...rest] = process.argv.slice(2)
if (mode === 'probe' && rest.length >= 2 && Number(rest[0]) > 0) {
  for (const r of await probeDaemons(rest.slice(1), Number(rest[0]))) console.log(JSON.stringify(r))
} else if (mode === 'echo' && rest.length >= 2 && Number.isInteger(Number(rest[0])) && Number(rest[0]) > 0) {
  for (const r of await echoExchange(rest.slice(1), Number(rest[0]), ECHO_TIMEOUT_MS))
    console.log(JSON.stringify(r))
} else {
  console.error('usage: mesh-tool-main.ts probe SECONDS MULTIADDR… | echo BYTES MULTIADDR…')
  process.exit(2)
}
// libp2p may leave timers behind; the answer is printed, so leave now.
process.exit(0)
