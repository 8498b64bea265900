/** Moves boundary tensors between the sites' meshes over `/atoll/tensor/1`, and counts what crossed. */
import { decodeTensor, fp16, type HeaderFields, type MessageRoute } from '@atoll/compress'
import { type Tensor, tensor } from '@atoll/core'
import type { IncomingTensor } from '@atoll/net'
import type { Site } from './sites.ts'

/** How a link carries float32 tensors: as they are, or halved to fp16 (slow links). */
export type LinkCodec = 'raw' | 'fp16'

interface Waiter {
  resolve(msg: IncomingTensor): void
  reject(err: Error): void
}

export class Courier {
  /** payload bytes sent over each link, by `from→to` */
  readonly bytes = new Map<string, number>()
  /** wall time spent in transfers, seconds */
  seconds = 0
  readonly #waiters = new Map<string, Waiter>()
  readonly #early = new Map<string, IncomingTensor>()
  readonly #unsubscribe: (() => void)[] = []
  readonly #pending = new Set<Promise<void>>()

  constructor(sites: readonly Site[]) {
    for (const site of sites) {
      this.#unsubscribe.push(
        site.mesh.tensors.onMessage((msg) => this.#arrived(site.name, msg)),
        site.mesh.tensors.onFailure(({ header, error }) => {
          if (header) this.#take(key(site.name, header))?.reject(error)
        }),
      )
    }
  }

  /** Sends `t` from one site to another and resolves with the tensor as the receiver decoded it. */
  async carry(from: Site, to: Site, route: MessageRoute, value: Tensor, codec: LinkCodec): Promise<Tensor> {
    const t0 = performance.now()
    const arrival = new Promise<IncomingTensor>((resolve, reject) => {
      const k = key(to.name, route)
      const early = this.#early.get(k)
      if (early === undefined) this.#waiters.set(k, { resolve, reject })
      else {
        this.#early.delete(k)
        resolve(early)
      }
    })
    const { fields, payload } = encode(route, value, codec)
    // the tensor is usable once it has arrived; the sender's acknowledgement comes half an RTT later
    const sent = from.mesh.tensors.send(to.mesh.node.getMultiaddrs(), fields, payload)
    const msg = await Promise.race([arrival, sent.then(() => arrival)])
    this.#pending.add(sent)
    sent.catch(() => {}).finally(() => this.#pending.delete(sent))
    const link = `${from.name}→${to.name}`
    this.bytes.set(link, (this.bytes.get(link) ?? 0) + payload.byteLength)
    this.seconds += (performance.now() - t0) / 1000
    const decoded = decodeTensor(msg.header, msg.payload)
    return tensor(decoded.dtype, decoded.shape, decoded.data as Tensor['data'])
  }

  /** Waits for the acknowledgements still due (a failed send throws here), then stops listening. */
  async close(): Promise<void> {
    try {
      await Promise.all(this.#pending)
    } finally {
      for (const u of this.#unsubscribe) u()
    }
  }

  #arrived(site: string, msg: IncomingTensor): void {
    const k = key(site, msg.header)
    const waiter = this.#take(k)
    if (waiter) waiter.resolve(msg)
    else this.#early.set(k, msg)
  }

  #take(k: string): Waiter | undefined {
    const w = this.#waiters.get(k)
    this.#waiters.delete(k)
    return w
  }
}

const key = (site: string, r: MessageRoute) => `${site}|${r.job}|${r.step}|${r.mb}|${r.edge}`

function encode(
  route: MessageRoute,
  t: Tensor,
  codec: LinkCodec,
): { fields: HeaderFields; payload: Uint8Array } {
  if (codec === 'fp16' && t.dtype === 'float32') {
    const e = fp16.encode(t.data as Float32Array)
    return {
      fields: { ...route, dtype: 'float32', shape: [...t.shape], codec: e.codec, codecMeta: e.codecMeta },
      payload: e.payload,
    }
  }
  const payload = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)
  return { fields: { ...route, dtype: t.dtype, shape: [...t.shape], codec: 'raw', codecMeta: {} }, payload }
}
