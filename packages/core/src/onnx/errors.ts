/** Typed errors of ONNX import and export; `name` is the class name, so callers branch on it. */
import { AtollError } from '../errors.ts'

/** The bytes are not a well-formed ONNX protobuf. */
export class OnnxDecodeError extends AtollError {
  constructor(message: string) {
    super(`malformed ONNX model: ${message}`)
  }
}

/** The model stores tensor data outside the file (external data), which a byte-only import cannot read. */
export class OnnxExternalDataError extends AtollError {
  readonly tensorName: string
  constructor(tensorName: string) {
    super(
      `tensor '${tensorName}' keeps its data in an external file; re-export with external_data=False ` +
        '(or onnx.save_model(..., save_as_external_data=False)) so that the weights are inside the .onnx bytes',
    )
    this.tensorName = tensorName
  }
}

/** The model uses a tensor element type, attribute kind or value type Atoll does not handle. */
export class UnsupportedOnnxFeatureError extends AtollError {}

/** The model is well-formed protobuf but not a usable ONNX model (no graph, bad opset, bad loss output). */
export class InvalidOnnxModelError extends AtollError {}
