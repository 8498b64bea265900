/**
 * Raw TCP throughput between two hosts: a receiver that accepts one connection and counts bytes, and
 * a sender that writes as fast as the socket drains. It is the baseline the link shaping is checked
 * against, independent of libp2p; `tcp-tool-main.ts` runs it inside a namespace.
 */
import { connect, createServer } from 'node:net'

export interface TcpResult {
  bytes: number
  seconds: number
  mbit: number
}

/** The shaper's bucket starts full, so the first moments run fast: they are left out of the figure. */
export const DEFAULT_WARMUP_MS = 300
const CHUNK_BYTES = 256 * 1024

/**
 * Listens on host:port, calls `onListening`, accepts one connection and resolves with the rate seen
 * from `warmupMs` after its first byte to its last byte.
 */
export function receiveOnce(
  host: string,
  port: number,
  warmupMs: number,
  onListening: () => void,
): Promise<TcpResult> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      server.close()
      let first = 0
      let start = 0
      let last = 0
      let counted = 0
      socket.on('data', (chunk: Buffer) => {
        const now = performance.now()
        if (first === 0) first = now
        if (now - first >= warmupMs) {
          if (start === 0) start = now
          else counted += chunk.length
          last = now
        }
      })
      socket.on('error', reject)
      socket.on('close', () => {
        const seconds = (last - start) / 1000
        resolve({ bytes: counted, seconds, mbit: seconds > 0 ? (counted * 8) / seconds / 1e6 : 0 })
      })
    })
    server.on('error', reject)
    server.listen(port, host, onListening)
  })
}

/** Connects to host:port and writes for `seconds`, honouring back-pressure, then closes. */
export function sendFor(host: string, port: number, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(CHUNK_BYTES, 0x61)
    let sent = 0
    const socket = connect({ host, port }, () => {
      const until = performance.now() + seconds * 1000
      const pump = () => {
        while (performance.now() < until) {
          sent += chunk.length
          if (!socket.write(chunk)) return void socket.once('drain', pump)
        }
        socket.end()
      }
      pump()
    })
    socket.on('error', reject)
    socket.on('close', () => resolve(sent))
  })
}
