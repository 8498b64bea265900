/**
 * The worker side of ort-thread.ts: owns onnxruntime CPU sessions and runs them on this thread, so
 * the caller's event loop stays free while a step computes. Messages come only from the runtime's
 * own main-thread half (same process), so they are typed, not parsed.
 */
import { constants, setPriority } from 'node:os'
import { parentPort } from 'node:worker_threads'
import * as ort from 'onnxruntime-node'
import type { ThreadReply, ThreadRequest, WireTensor } from './ort-thread.ts'

// Compute yields to the caller's thread: a peer's mesh traffic (an all-reduce's next chunk, a
// pipeline's activation, a heartbeat) is latency-bound, compute is not. On Linux this sets the nice
// value of this thread alone, and onnxruntime's pool threads, started from it, inherit it.
setPriority(constants.priority.PRIORITY_BELOW_NORMAL)

const sessions = new Map<number, ort.InferenceSession>()
const port = parentPort
if (port === null) throw new Error('ort-thread-worker.ts runs only as a worker thread')

port.on('message', (request: ThreadRequest) => {
  answer(request).then(
    ({ reply, transfer }) => {
      try {
        port.postMessage(reply, transfer)
      } catch {
        // memory onnxruntime allocated itself cannot move: copies then (nothing was detached)
        for (const t of Object.values(reply.outputs ?? {})) t.data = t.data.slice()
        port.postMessage(
          reply,
          Object.values(reply.outputs ?? {}).map((t) => t.data.buffer as ArrayBuffer),
        )
      }
    },
    (err: Error) => port.postMessage({ id: request.id, error: err.message } satisfies ThreadReply),
  )
})

async function answer(request: ThreadRequest): Promise<{ reply: ThreadReply; transfer: ArrayBuffer[] }> {
  const { id } = request
  if (request.kind === 'create') {
    const session = await ort.InferenceSession.create(request.onnx, request.options)
    sessions.set(request.session, session)
    return { reply: { id, inputNames: session.inputNames, outputNames: session.outputNames }, transfer: [] }
  }
  const session = sessions.get(request.session)
  if (session === undefined) throw new Error(`no session ${request.session} (released?)`)
  if (request.kind === 'release') {
    sessions.delete(request.session)
    await session.release()
    return { reply: { id }, transfer: [] }
  }
  const feeds: Record<string, ort.Tensor> = {}
  for (const [name, t] of Object.entries(request.feeds))
    feeds[name] = new ort.Tensor(t.dtype, t.data, t.shape)
  const out = request.fetches ? await session.run(feeds, request.fetches) : await session.run(feeds)
  const added = request.addInto ?? {}
  // every output checked before any is added: a refused run adds nothing
  const adds = Object.entries(added).map(([name, into]) => ({ values: addable(name, out[name], into), into }))
  for (const { values, into } of adds) for (let i = 0; i < into.length; i++) into[i] += values[i]
  const outputs: Record<string, WireTensor> = {}
  const transfer: ArrayBuffer[] = []
  for (const [name, t] of Object.entries(out)) {
    if (name in added) continue
    const data = t.data as WireTensor['data']
    outputs[name] = { dtype: t.type as WireTensor['dtype'], shape: [...t.dims], data }
    // an output that owns its whole buffer moves to the caller; one that shares a buffer is copied
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
    if (!whole || transfer.includes(data.buffer as ArrayBuffer)) outputs[name].data = data.slice()
    transfer.push(outputs[name].data.buffer as ArrayBuffer)
  }
  return { reply: { id, outputs }, transfer }
}

/** Output `name`'s values, where they can be added into `into` (float32, the same element count). */
function addable(name: string, output: ort.Tensor | undefined, into: Float32Array): Float32Array {
  if (output === undefined) throw new Error(`output '${name}' to add was not fetched`)
  if (output.type !== 'float32' || output.size !== into.length)
    throw new Error(`output '${name}' is ${output.type}[${output.size}], not float32[${into.length}]`)
  return output.data as Float32Array
}
