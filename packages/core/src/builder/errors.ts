/** A layer was given an input whose shape it cannot take (wrong rank, unknown feature size). */
import { AtollError } from '../errors.ts'
export class LayerShapeError extends AtollError {
  constructor(layer: string, message: string) {
    super(`${layer}: ${message}`)
  }
}
