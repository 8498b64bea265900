/**
 * A libp2p node with Atoll's three protocols on it, the emulated links they share, and one way to start
 * and stop it all. Works with the Node and the browser node factories alike.
 */
import type { Libp2p } from '@libp2p/interface'
import { type CtrlInit, CtrlRpc } from './ctrl.ts'
import { LinkTable } from './link.ts'
import { LinkProbe, type ProbeInit } from './probe.ts'
import { ProbeFloor } from './probe-floor.ts'
import type { NetObserver, ProtocolContext } from './protocol.ts'
import { type TensorInit, TensorTransport } from './tensor.ts'

export interface MeshInit {
  observer?: NetObserver
  tensor?: TensorInit
  ctrl?: CtrlInit
  probe?: ProbeInit
}

export class AtollMesh {
  readonly links = new LinkTable()
  readonly ctrl: CtrlRpc
  readonly probe: LinkProbe
  /** Who may probe now: no two probes at once among the nodes that take the floor (see probe-floor.ts). */
  readonly floor: ProbeFloor
  readonly tensors: TensorTransport
  readonly node: Libp2p

  constructor(node: Libp2p, init: MeshInit = {}) {
    this.node = node
    const ctx: ProtocolContext = { host: node, links: this.links, observer: init.observer }
    this.ctrl = new CtrlRpc(ctx, init.ctrl)
    this.probe = new LinkProbe(ctx, init.probe)
    this.floor = new ProbeFloor(this.ctrl, this.probe, node.peerId.toString())
    this.tensors = new TensorTransport(ctx, init.tensor)
  }

  get peerId(): string {
    return this.node.peerId.toString()
  }

  /**
   * Registers the protocols, then starts the node if it is not running: in that order, peers that
   * connect at start-up (bootstrap) learn the protocols in their first identify exchange.
   */
  async start(): Promise<void> {
    await Promise.all([this.ctrl.start(), this.probe.start(), this.tensors.start()])
    if (this.node.status !== 'started') await this.node.start()
  }

  /**
   * Stops accepting new streams, lets ctrl answers and tensors in flight finish for up to `graceMs`,
   * aborts the tensors left (their receivers get TransferIncompleteError, never a partial tensor),
   * closes every connection gracefully, then stops the node. Returns whether every tensor in flight
   * had finished.
   */
  async stop(graceMs = 5_000): Promise<boolean> {
    await Promise.all([this.ctrl.stop(), this.probe.stop(), this.tensors.stop()])
    const [drained] = await Promise.all([this.tensors.drain(graceMs), this.ctrl.drain(graceMs)])
    if (!drained) this.tensors.abortAll()
    await closeConnections(this.node)
    await this.node.stop()
    return drained
  }
}

/** How long a connection may take to close gracefully before it is aborted. */
const CLOSE_MS = 2_000

/**
 * Closes every connection and waits for each close, before the node stops. `node.stop()` closes them
 * too, but at the same time its TCP listener destroys every socket it accepted: a socket destroyed with
 * unread input sends a RST, and the remote's kernel drops what it has received and not yet read (the
 * last answer a peer sent before stopping, say). Closed first, no socket is left for the listener.
 * Each TCP close is a lingering one (see patches/@libp2p__tcp*.patch): it ends when the remote has
 * read everything and closed its side too.
 */
async function closeConnections(node: Libp2p): Promise<void> {
  await Promise.all(
    node
      .getConnections()
      .map((connection) =>
        connection
          .close({ signal: AbortSignal.timeout(CLOSE_MS) })
          .catch((err: Error) => connection.abort(err)),
      ),
  )
}
