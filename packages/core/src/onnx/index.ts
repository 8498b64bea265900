export {
  InvalidOnnxModelError,
  OnnxDecodeError,
  OnnxExternalDataError,
  UnsupportedOnnxFeatureError,
} from './errors.ts'
export { type ExportOnnxOptions, exportOnnx, irVersionForOpset, SCOPE_KEY } from './export.ts'
export { type ImportGraphOptions, type ImportOnnxOptions, importOnnx, importOnnxGraph } from './import.ts'
export { retieDuplicateParameters } from './retie.ts'
export { scopeFromNodeName } from './scope.ts'
export { type GraphUpgrade, OLDEST_OPSET, UPGRADED_OPSET, upgradeGraph } from './upgrade.ts'
