/** Plain, JSON-serialisable inputs and outputs of the planner. Units: seconds, bytes, FLOPs. */

/** One peer as profiled: measured FLOP/s on calibration graphs, and memory. */
export interface PeerProfile {
  id: string
  /** e.g. 'cuda:H100', 'cpu', 'webgpu' */
  device: string
  /** sustained FLOP/s on a calibration MatMul */
  flops: number
  memoryBytes: number
  /**
   * the machine the peer runs on (its kernel's boot id): peers with the same one share its cores, so
   * their stages' compute adds up rather than overlapping; absent when unknown (a machine of its own)
   */
  host?: string
}

/** A measured link between two peers (symmetric). */
export interface LinkProfile {
  a: string
  b: string
  /** bytes per second */
  bandwidthBps: number
  rttSeconds: number
}

/** One operator's cost per micro-batch, from shape inference (forward pass). */
export interface OpCost {
  /** unique op id (the ONNX node name) */
  id: string
  opType: string
  /** dotted layer path, e.g. `h.3.attn` */
  scope: string
  /** forward FLOPs */
  flops: number
  /** bytes of the trainable parameters the op reads */
  paramBytes: number
  /** bytes of the op's outputs (what crosses a cut after it) */
  outputBytes: number
  /** ids of the ops whose outputs it reads (graph inputs and parameters are not listed) */
  inputs: string[]
  /**
   * the trainable parameters it reads, by name, with their bytes: a parameter read by ops of two
   * stages (a tied embedding) has its gradient summed between them every step (TiedExchange)
   */
  params?: { name: string; bytes: number }[]
}

/** Peers that sit behind one fence: links inside are fast, links out are slow. */
export interface FenceCluster {
  peers: string[]
  /** slowest link on the widest paths inside the cluster, bytes/s (0 for a single peer: no inner link) */
  innerBandwidthBps: number
}

/** A contiguous run of ops placed on a group of peers that replicate it data-parallel. */
export interface Stage {
  index: number
  /**
   * cluster the stage lives in: OP-Fence's position in the fence chain, a baseline's index into
   * plan.clusters; −1 when planned without clusters
   */
  cluster: number
  /** op ids, in the linear order */
  ops: string[]
  /** layer names (see layerOf) the stage holds, in order */
  layers: string[]
  /** peers holding a replica */
  peers: string[]
  /** compute per micro-batch (forward + backward), with the micro-batch split over the replicas */
  computeSeconds: number
  /** parameter bytes of the stage */
  paramBytes: number
  /** largest per-peer memory need: parameters, gradients, optimizer state, stashed activations */
  memoryBytesPerPeer: number
  /** whether every replica's peer has that much memory (baselines do not check; OP-Fence ensures it) */
  fitsMemory: boolean
  /** data-parallel sync of the stage over its replicas, per step (amortised over the period) */
  syncSeconds: number
  /**
   * DreamDDP only: layer → the iterations (0…H−1) of each period in which the replicas average it,
   * solved from the stage's layer costs; syncSeconds is then that schedule's wait per period / H
   */
  syncSchedule?: Record<string, number[]>
}

/**
 * How a boundary tensor crosses: 'dense' (fp32), AdaTopK's 'topk-fp16' (top-k values as fp16, with
 * their indices), or every element as 'fp16' or 'int8' (per-block scale) when a job fixes it.
 */
export type EdgeCodec = 'dense' | 'topk-fp16' | 'fp16' | 'int8'

/** What crosses between stage `from` and stage `from + 1` per micro-batch. */
export interface BoundaryEdge {
  from: number
  to: number
  /** dense bytes of the activations (and, backwards, of their gradients) */
  bytes: number
  /** whether the edge leaves a cluster */
  crossesFence: boolean
  bandwidthBps: number
  rttSeconds: number
  codec: EdgeCodec
  /** fraction of the elements kept (1 unless top-k) */
  keepRatio: number
  /** RTT/2 + bytes × codec ratio / bandwidth */
  seconds: number
}

/**
 * A parameter held by several stages (GPT's embedding and head): after the last micro-batch each
 * holder sends its whole gradient, dense, to the others and waits for theirs, once a step.
 */
export interface TiedExchange {
  param: string
  stages: number[]
  bytes: number
  /** the slowest holder-to-holder link: RTT/2 + bytes / bandwidth (both ways at once) */
  seconds: number
}

/** How replicas of a stage synchronise: the algorithm and its period H (1 for S-SGD). */
export interface SyncSpec {
  algorithm: 'ssgd' | 'local-sgd' | 'diloco' | 'dreamddp'
  period: number
}

/** Predicted step time of a plan and where it goes. */
export interface Prediction {
  /** pipeline (fill + (M − 1) × slot) + tied-weight exchange + per-step overhead + slowest sync */
  stepSeconds: number
  /**
   * per micro-batch, the busiest resource: a stage (its compute plus the per-micro-batch overhead)
   * or a link (the bytes of one boundary tensor over its bandwidth), as they run at once
   */
  slotSeconds: number
  /** what sets the slot: `stage 2 compute` or `edge 1→2` */
  bottleneck: string
  /**
   * per stage, the micro-batches it holds in flight: its 1F1B warm-up, enough to cover the round
   * trip to the last stage and back at the slot's pace (at least S − s, at most M)
   */
  inFlight: number[]
  breakdown: {
    pipelineSeconds: number
    /** the first micro-batch's way forward through every stage and back, transfers included */
    fillSeconds: number
    syncSeconds: number
    /** the tied parameters' gradient exchange after the last micro-batch */
    tiedSeconds: number
    /** the coordinator's round trips and the update, once a step */
    stepOverheadSeconds: number
    maxComputeSeconds: number
    maxEdgeSeconds: number
  }
}

export interface Plan {
  /** the planner, or 'explicit' for stages a job placed by hand */
  algorithm: 'op-fence' | 'even' | 'random' | 'explicit'
  microBatches: number
  clusters: FenceCluster[]
  stages: Stage[]
  edges: BoundaryEdge[]
  /** data-parallel sync inside each stage's replica group (ring all-reduce) */
  sync: SyncSpec
  /** parameters held by several stages, whose gradients cross between them every step */
  tied: TiedExchange[]
  predicted: Prediction
}
