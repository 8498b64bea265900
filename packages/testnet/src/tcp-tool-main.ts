#!/usr/bin/env node
/**
 * `node tcp-tool-main.ts recv HOST PORT [WARMUP_MS]` prints `{"listening":true}`, then one JSON
 * TcpResult when the sender is done; `node tcp-tool-main.ts send HOST PORT SECONDS` sends.
 */
import { DEFAULT_WARMUP_MS, receiveOnce, sendFor } from './tcp-tool.ts'

const [mode, host, portText, extra] = process.argv.slice(2)
const port = Number(portText)
if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: tcp-tool-main.ts recv HOST PORT [WARMUP_MS] | send HOST PORT SECONDS')
  process.exit(2)
}
if (mode === 'recv') {
  const warmup = extra === undefined ? DEFAULT_WARMUP_MS : Number(extra)
  const result = await receiveOnce(host, port, warmup, () => console.log(JSON.stringify({ listening: true })))
  console.log(JSON.stringify(result))
} else if (mode === 'send') {
  const seconds = Number(extra)
  if (!(seconds > 0 && seconds <= 60)) {
    console.error('SECONDS must be in (0, 60]')
    process.exit(2)
  }
  await sendFor(host, port, seconds)
} else {
  console.error(`unknown mode '${mode}'`)
  process.exit(2)
}
