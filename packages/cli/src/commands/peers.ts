import { flagValue, numeric, parseFlags } from '@atoll/flags'
import * as z from 'zod/mini'
import type { Command } from '../command.ts'

const usage = [
  'Usage: atoll peers [ADDR…] [--data-dir DIR] [--json] [--timeout S]',
  '',
  'Lists the peers a running daemon knows, with device, FLOP/s, RTT and measured bandwidth.',
  'ADDR: the daemon to ask (a multiaddr ending in /p2p/<id>); without it, the daemon running with',
  '--data-dir (default ~/.atoll/peer) is asked.',
].join('\n')

export const peers: Command = {
  name: 'peers',
  summary: 'list the peers a running daemon knows, with device, FLOP/s, RTT, bandwidth',
  usage,
  async run(args) {
    // imported here, not at the top: libp2p and onnxruntime would slow down every other command
    const { daemonAddresses, defaultDataDir, queryPeers } = await import('@atoll/peer')
    const { values, positionals } = parseFlags(
      args,
      { 'data-dir': { type: 'string' }, json: { type: 'boolean' }, timeout: { type: 'string' } },
      true,
    )
    const addrs =
      positionals.length > 0 ? positionals : daemonAddresses(values['data-dir'] ?? defaultDataDir())
    const seconds = flagValue('timeout', values.timeout, numeric(z.number().check(z.gte(0.1), z.lte(600))))
    const timeoutMs = (seconds ?? 10) * 1000
    const answer = await queryPeers(addrs, timeoutMs)
    if (values.json) {
      console.log(JSON.stringify(answer, null, 2))
      return 0
    }
    console.log(`peer ${answer.self.peerId} (${answer.self.name}) knows ${answer.peers.length} peer(s)`)
    const rows = answer.peers.map((p) => [
      p.peerId,
      p.name ?? '?',
      p.connected ? 'yes' : 'no',
      p.device ?? '?',
      p.flops === undefined ? '?' : `${(p.flops / 1e9).toFixed(1)} G`,
      p.rttMs === undefined ? '?' : `${p.rttMs.toFixed(1)} ms`,
      p.bytesPerSecond === undefined ? '?' : `${((p.bytesPerSecond * 8) / 1e6).toFixed(1)} Mbit/s`,
    ])
    console.log(table([['peer', 'name', 'connected', 'device', 'FLOP/s', 'RTT', 'bandwidth'], ...rows]))
    return 0
  },
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}
