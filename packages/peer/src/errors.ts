/** Failures of the daemon's own inputs; `name` is the code. */
import { AtollError } from '@atoll/core'

/** A configuration value (flag, link spec, data dir) is invalid; the message names it. */
export class PeerConfigError extends AtollError {
  constructor(message = 'invalid peer configuration') {
    super(message)
  }
}

/** A daemon's state file is not JSON or not a daemon's state; the message names the file and the field. */
export class DaemonStateError extends AtollError {}

/** `--device` named a device this machine cannot compute on. */
export class DeviceUnavailableError extends AtollError {
  constructor(message = 'device unavailable') {
    super(message)
  }
}

/** A job file cannot be read, is not YAML, or is not a valid job; the message names the file and the field. */
export class JobFileError extends AtollError {}
