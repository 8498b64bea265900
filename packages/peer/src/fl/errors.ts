/** Failures of `atoll fl`'s server and Node client; `name` is the code. */
import { AtollError } from '@atoll/core'

/** An FL.yaml file cannot be read, is not YAML, or is not a valid federation; the message names the file and the field. */
export class FlSpecError extends AtollError {}

/**
 * A client's request the server will not serve (another federation, not joined, not selected for
 * the round it asks about), or a server's answer a client cannot use (another dataset, a model with
 * running statistics); the message says which.
 */
export class FlRequestError extends AtollError {}

/** A checkpoint folder holds another federation's checkpoint, or one that does not fit the model. */
export class FlCheckpointError extends AtollError {}
