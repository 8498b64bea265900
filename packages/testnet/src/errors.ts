/** A topology file or object is malformed; `path` names the bad field, like `sites[1].peers[0].name`. */
import { AtollError } from '@atoll/core'
export class TopologyError extends AtollError {
  readonly path: string
  /** The message without the path. */
  readonly detail: string
  constructor(path: string, detail: string) {
    super(path === '' ? detail : `${path}: ${detail}`)
    this.path = path
    this.detail = detail
  }
}

/** The testnet's state file is not JSON or not a testnet's state; the message names the file and field. */
export class StateFileError extends AtollError {
  constructor(message: string) {
    super(`${message} (if no testnet is up, remove the file by hand)`)
  }
}

/** `up` was asked for while a testnet (or its leftovers) is still there. */
export class TestnetAlreadyUpError extends AtollError {}

/** A command needs a running testnet and none is up. */
export class TestnetNotUpError extends AtollError {
  constructor(message = 'no testnet is up (start one with `atoll testnet up --topology NAME`)') {
    super(message)
  }
}

/** A peer name that the running testnet does not have. */
export class UnknownPeerError extends AtollError {
  constructor(peer: string, known: string[]) {
    super(`no peer '${peer}' in this testnet (peers: ${known.join(', ')})`)
  }
}

/** The namespace backend needs root (CAP_NET_ADMIN) to create namespaces, links and qdiscs. */
export class NotRootError extends AtollError {
  constructor(what = 'the namespace testnet') {
    super(
      `${what} needs root (network namespaces, veth and tc); run it as root or use the emulated links of ./atoll demo`,
    )
  }
}

/** An external command (ip, tc, docker) failed; the message carries the command line and its stderr. */
export class CommandFailedError extends AtollError {
  readonly status: number | null
  constructor(argv: string[], status: number | null, stderr: string) {
    super(`'${argv.join(' ')}' exited with ${status}: ${stderr.trim().slice(0, 2000)}`)
    this.status = status
  }
}

/** A tool (ip, a testnet helper) printed something other than the JSON the testnet reads from it. */
export class ToolOutputError extends AtollError {}

/** A throughput measurement did not produce a result (the receiver saw no data, or the tool failed). */
export class MeasureError extends AtollError {}

/** The testnet could not be brought up or used (a daemon did not start, a container failed). */
export class TestnetError extends AtollError {}

/** A loopback peer process exited, or never said it was up, while its mesh needed it. */
export class PeerProcessError extends AtollError {}
