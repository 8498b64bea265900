/** Failures of the daemon's own inputs; `name` is the code. */

/** A configuration value (flag, link spec, data dir) is invalid; the message names it. */
export class PeerConfigError extends Error {
  static override name = 'PeerConfigError'
  constructor(message = 'invalid peer configuration') {
    super(message)
    this.name = 'PeerConfigError'
  }
}

/** `--device` named a device this machine cannot compute on. */
export class DeviceUnavailableError extends Error {
  static override name = 'DeviceUnavailableError'
  constructor(message = 'device unavailable') {
    super(message)
    this.name = 'DeviceUnavailableError'
  }
}
