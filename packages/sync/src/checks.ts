/** Checks on what a caller hands a group: counts, names, and the tensor itself. */
import { firstNonFinite } from './admit.ts'
import { MAX_NAME_LENGTH } from './constants.ts'
import { InvalidSyncOptionError, NonFiniteInputError } from './errors.ts'

export function checkCount(field: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidSyncOptionError(`${field}: expected an integer ≥ ${min}, found ${value}`)
  }
}

/** A group id or collective name: 1 to MAX_NAME_LENGTH characters (they travel in every edge). */
export function checkName(field: string, value: string): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > MAX_NAME_LENGTH) {
    throw new InvalidSyncOptionError(
      `${field}: expected 1 to ${MAX_NAME_LENGTH} characters, found '${value}'`,
    )
  }
  return value
}

/** The tensor a collective sends: float32 and finite (another member would refuse NaN anyway). */
export function checkData(name: string, data: Float32Array): void {
  if (!(data instanceof Float32Array)) throw new InvalidSyncOptionError(`'${name}': expected a Float32Array`)
  const bad = firstNonFinite(data)
  if (bad >= 0) throw new NonFiniteInputError(`'${name}' element ${bad} is ${data[bad]}: nothing was sent`)
}
