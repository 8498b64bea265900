/** A layer was given an input whose shape it cannot take (wrong rank, unknown feature size). */
export class LayerShapeError extends Error {
  static override name = 'LayerShapeError'
  constructor(layer: string, message: string) {
    super(`${layer}: ${message}`)
    this.name = 'LayerShapeError'
  }
}
