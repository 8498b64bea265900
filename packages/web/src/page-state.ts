/**
 * What the page shows and what it exposes on `window.atollWeb` for tests and scripts: its status,
 * the options it runs with, how onnxruntime-web was set up, every step's loss, and, once done, the
 * update θ_local − θ_start per tensor (what a federated round uploads).
 */
import type { Tensor } from '@atoll/core'
import type { PageOptions } from './page-options.ts'

export type PageStatus = 'idle' | 'loading' | 'training' | 'done' | 'failed'

export interface StepRecord {
  /** 0-based */
  step: number
  loss: number
  seconds: number
}

export interface PageState {
  status: PageStatus
  options: PageOptions
  /** whether the page may share memory between threads (COOP/COEP), which wasm threads need */
  crossOriginIsolated: boolean
  /** the backend that trains (`webgpu`, `wasm`), once chosen */
  backend?: string
  /** wasm threads onnxruntime-web runs with */
  threads?: number
  /** the onnxruntime-web build and where its runtime came from */
  runtime?: { build: 'webgpu' | 'wasm'; fromCache: boolean; bytes: number }
  /** images in the sample shard */
  images?: number
  steps: StepRecord[]
  result?: {
    /** θ_local − θ_start by parameter name */
    update: Record<string, Tensor<'float32'>>
    losses: number[]
    seconds: number
  }
  error?: string
}

declare global {
  interface Window {
    atollWeb: PageState
  }
}
