/** Text ↔ token ids. Both tokenisers are deterministic and need no download. */
export interface Tokenizer {
  readonly name: TokenizerName
  readonly vocabSize: number
  encode(text: string): Int32Array
  decode(ids: ArrayLike<number>): string
}

export type TokenizerName = 'bytes' | 'gpt2'

export const TOKENIZERS: readonly TokenizerName[] = ['bytes', 'gpt2']

/** UTF-8 bytes as tokens (vocabulary 256): tiny embedding tables, nothing to load. */
export function byteTokenizer(): Tokenizer {
  const encoder = new TextEncoder()
  const decoder = new TextDecoder('utf-8')
  return {
    name: 'bytes',
    vocabSize: 256,
    encode: (text) => Int32Array.from(encoder.encode(text)),
    decode: (ids) => decoder.decode(Uint8Array.from(ids as ArrayLike<number>)),
  }
}

/**
 * GPT-2's byte-level BPE (50 257 tokens) from `gpt-tokenizer`. Loaded on demand: its merge table is
 * megabytes that users of the byte tokeniser should not pay for. Special-token strings in the text
 * are encoded as ordinary text, since corpora are data, not prompts.
 */
export async function gpt2Tokenizer(): Promise<Tokenizer> {
  const bpe = await import('gpt-tokenizer/encoding/gpt2')
  const plain = { disallowedSpecial: new Set<string>() }
  return {
    name: 'gpt2',
    vocabSize: bpe.vocabularySize,
    encode: (text) => Int32Array.from(bpe.encode(text, plain)),
    decode: (ids) => bpe.decode(Array.from(ids)),
  }
}

export async function loadTokenizer(name: TokenizerName): Promise<Tokenizer> {
  return name === 'gpt2' ? gpt2Tokenizer() : byteTokenizer()
}
