/**
 * What the page shows and what it exposes on `window.atollWeb` for tests and scripts: its status,
 * the options it runs with, how onnxruntime-web was set up, every step's loss, and, once done, the
 * update θ_local − θ_start per tensor (what a federated round uploads). Joined to a federation, the
 * client's rounds instead, and the server's status when the page is served by the server.
 */
import type { Tensor } from '@atoll/core'
import type { FederationStatus } from '@atoll/sync'
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
  /** images trained on */
  images?: number
  /** where they come from: the bundled sample shard, or files the user picked */
  imageSource?: 'sample' | 'picked'
  steps: StepRecord[]
  result?: {
    /** θ_local − θ_start by parameter name */
    update: Record<string, Tensor<'float32'>>
    losses: number[]
    seconds: number
  }
  /** set when the page takes part in a federation */
  federated?: FederatedState
  /** the server's status (`federation.json`), when the page is served by `atoll fl serve --web` */
  board?: FederationStatus
  error?: string
}

export type FederatedPhase = 'connecting' | 'probing' | 'waiting' | 'training' | 'uploading' | 'done'

export interface FederatedState {
  /** the server's address: the one being tried, then the one that connected */
  server: string
  /** how the tab reached the server: directly, or over WebRTC signalled through a relay */
  transport?: 'websockets' | 'webrtc'
  phase: FederatedPhase
  /** this tab's peer id */
  peerId?: string
  /** measured upload to the server, bytes per second */
  bandwidthBps?: number
  federation?: string
  /** the zoo model the server trains */
  model?: string
  rounds: FederatedRound[]
}

/** A round this tab was selected for. */
export interface FederatedRound {
  round: number
  keepRatio: number
  modelBytes: number
  downloadSeconds: number
  /** local steps done and due, and the local loss of each */
  steps: number
  losses: number[]
  uploadBytes?: number
  uploadSeconds?: number
  /** 'accepted', or why the update did not count */
  outcome?: string
}

declare global {
  interface Window {
    atollWeb: PageState
  }
}
