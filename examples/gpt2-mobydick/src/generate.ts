/** Text from a trained GPT: one forward pass per new token over a sliding window, sampled with a temperature. */
import { exportOnnx, type GPT2Config, gpt2, int64, type Tensor } from '@atoll/core'
import { type Backend, createRandom, type Parameter, parameterTensor, type Tokenizer } from '@atoll/runtime'

export interface ModelWeights {
  config: GPT2Config
  /** the window the model was trained on */
  seq: number
  params: readonly Parameter[]
  backend: Backend
}

export interface SampleOptions extends ModelWeights {
  tokenizer: Tokenizer
  prompt: string
  /** tokens to generate */
  count: number
  temperature: number
  seed: number
}

export interface NextToken {
  /** the logits of the token after `context` (its last `seq` tokens are used) */
  logitsAfter(context: readonly number[], pad?: number): Promise<Float32Array>
  release(): Promise<void>
}

/** A forward-only session of the trained model, for one sequence at a time. */
export async function nextTokenModel(trained: ModelWeights): Promise<NextToken> {
  // the same architecture without the loss, its weights as inputs: the trained values are fed, not copied in
  const zoo = gpt2({ config: trained.config, seq: trained.seq, batch: 1, loss: false, shapesOnly: true })
  const session = await trained.backend.createSession({ onnx: exportOnnx(zoo.graph) })
  const weights: Record<string, Tensor> = Object.fromEntries(
    trained.params.map((p) => [p.name, parameterTensor(p)]),
  )
  const vocab = trained.config.vocab
  const window = new Array<number>(trained.seq)
  return {
    // attention is causal, so the position of the last real token sees nothing of the padding after it
    async logitsAfter(context, pad = 0) {
      if (context.length === 0) throw new RangeError('the context needs at least one token')
      const kept = context.slice(-trained.seq)
      window.fill(pad)
      kept.forEach((t, i) => {
        window[i] = t
      })
      const out = await session.run({ ...weights, input_ids: int64([1, trained.seq], window) }, [zoo.logits])
      const logits = (await out[zoo.logits].read()).data as Float32Array
      return logits.slice((kept.length - 1) * vocab, kept.length * vocab)
    },
    release: () => session.release(),
  }
}

/** The prompt followed by `count` sampled tokens, decoded. */
export async function sampleText(options: SampleOptions): Promise<string> {
  const model = await nextTokenModel(options)
  const random = createRandom(options.seed)
  const tokens = Array.from(options.tokenizer.encode(options.prompt))
  try {
    for (let n = 0; n < options.count; n++)
      tokens.push(pick(await model.logitsAfter(tokens), options.temperature, random.float()))
  } finally {
    await model.release()
  }
  return options.tokenizer.decode(tokens)
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
