/**
 * One class per failure of the browser client and its build; `name` is the code callers branch on.
 * Messages say what was expected and what was found.
 */
import { AtollError } from '@atoll/core'

/** A parameter of the page's address (`?steps=…&lr=…`) is not one the page takes. */
export class PageOptionsError extends AtollError {}

/** The sample shard (a safetensors file of images and labels) is missing, malformed or inconsistent. */
export class SampleShardError extends AtollError {}

/** A picked image file cannot be used: no class in its name or folder, or not an image the browser decodes. */
export class PickedImagesError extends AtollError {}

/** onnxruntime-web's wasm runtime could not be fetched. */
export class WasmFetchError extends AtollError {}

/** The server's status (`federation.json`) could not be fetched, or is not a federation's status. */
export class BoardError extends AtollError {}

/** The Vite build of the page failed, or left no page behind. */
export class WebBuildError extends AtollError {}

/** Debian's Chromium is missing and could not be installed (apt-get failed, or not root). */
export class ChromiumError extends AtollError {}

/** The page reached the federated server at none of the addresses it had for it. */
export class ServerUnreachableError extends AtollError {}
