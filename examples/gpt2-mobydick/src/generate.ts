/** Text from a trained GPT: one forward pass per new token over a sliding window, sampled with a temperature. */
import { type GPT2Config, gpt2, int64, type Tensor } from '@atoll/core'
import {
  type Backend,
  createRandom,
  type Parameter,
  parameterTensor,
  type Tokenizer,
  toOnnx,
} from '@atoll/runtime'

export interface SampleOptions {
  config: GPT2Config
  /** the window the model was trained on */
  seq: number
  params: readonly Parameter[]
  backend: Backend
  tokenizer: Tokenizer
  prompt: string
  /** tokens to generate */
  count: number
  temperature: number
  seed: number
}

/** The prompt followed by `count` sampled tokens, decoded. */
export async function sampleText(o: SampleOptions): Promise<string> {
  // the same architecture without the loss, its weights as inputs: the trained values are fed, not copied in
  const zoo = gpt2({ config: o.config, seq: o.seq, batch: 1, loss: false, shapesOnly: true })
  const session = await o.backend.createSession({ onnx: toOnnx(zoo.graph) })
  const weights: Record<string, Tensor> = Object.fromEntries(
    o.params.map((p) => [p.name, parameterTensor(p)]),
  )
  const random = createRandom(o.seed)
  const tokens = Array.from(o.tokenizer.encode(o.prompt))
  const window = new Array<number>(o.seq)
  try {
    for (let n = 0; n < o.count; n++) {
      // attention is causal, so the position after the last real token sees nothing of the padding
      const context = tokens.slice(-o.seq)
      window.fill(0)
      context.forEach((t, i) => {
        window[i] = t
      })
      const out = await session.run({ ...weights, input_ids: int64([1, o.seq], window) }, [zoo.logits])
      const logits = (await out[zoo.logits].read()).data as Float32Array
      const vocab = o.config.vocab
      const last = Math.max(context.length - 1, 0)
      tokens.push(pick(logits.subarray(last * vocab, (last + 1) * vocab), o.temperature, random.float()))
    }
  } finally {
    await session.release()
  }
  return o.tokenizer.decode(tokens)
}

/** Samples an index from softmax(logits / temperature), given a uniform draw u in [0, 1). */
function pick(logits: Float32Array, temperature: number, u: number): number {
  let max = -Infinity
  for (const l of logits) max = Math.max(max, l)
  const weights = Float64Array.from(logits, (l) => Math.exp((l - max) / temperature))
  let target = u * weights.reduce((a, b) => a + b, 0)
  for (let k = 0; k < weights.length; k++) {
    target -= weights[k]
    if (target < 0) return k
  }
  return weights.length - 1
}
