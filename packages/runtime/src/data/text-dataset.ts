import { type CorpusName, loadCorpus } from './sources.ts'
import { splitTokens, type TokenSequences, tokenSequences } from './text.ts'
import { loadTokenizer, type Tokenizer, type TokenizerName } from './tokenizer.ts'

export interface TextDatasetOptions {
  corpus: CorpusName
  tokenizer: TokenizerName
  /** tokens per training sequence (the model's context) */
  seqLen: number
  /** tail of the corpus kept for evaluation (default 0.1) */
  heldOutFraction?: number
}

export interface TextDataset {
  tokenizer: Tokenizer
  train: TokenSequences
  heldOut: TokenSequences
}

const tokenCache = new Map<string, Int32Array>()

/** A corpus tokenised (once per process) and cut into training and held-out sequences. */
export async function loadTextDataset(options: TextDatasetOptions): Promise<TextDataset> {
  const tokenizer = await loadTokenizer(options.tokenizer)
  const key = `${options.corpus}:${options.tokenizer}`
  let tokens = tokenCache.get(key)
  if (tokens === undefined) {
    tokens = tokenizer.encode(loadCorpus(options.corpus))
    tokenCache.set(key, tokens)
  }
  const { train, heldOut } = splitTokens(tokens, options.heldOutFraction ?? 0.1)
  return {
    tokenizer,
    train: tokenSequences(train, options.seqLen),
    heldOut: tokenSequences(heldOut, options.seqLen),
  }
}
