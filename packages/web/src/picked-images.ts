/**
 * Images the user picks, as a training set like the sample shard: each file's class comes from its
 * folder (`trouser/01.png`, when a folder is picked) or the start of its name (`trouser_01.png`,
 * `1_01.png`): a class number or a class's name. Each image is cropped to its centre square, scaled
 * to the dataset's 28 × 28, turned to grey, and inverted when its background is light (the dataset's
 * images are light things on black). The files are the user's, so each is checked and a bad one is
 * named, never skipped in silence.
 */
import type { ImageSet } from '@atoll/runtime'
import { PickedImagesError } from './errors.ts'

/** The classes of the dataset the page trains on, in label order. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const
const SIDE = 28
/** More than a tab should decode at once; a larger pick is a mistake. */
export const MAX_PICKED_FILES = 20_000

/** A class name as a file or folder would spell it: lower case, letters and digits only (`tshirttop`). */
const squash = (text: string) => text.toLowerCase().replace(/[^a-z0-9]/g, '')
const CLASS_BY_NAME = new Map<string, number>(
  FASHION_MNIST_CLASSES.flatMap((name, label) => [
    [squash(name), label],
    [squash(name.split('/')[0]), label], // `tshirt`
  ]),
)

/** The label of a picked file from its path (`folder/name.png`, or `name.png`); throws naming the file. */
export function labelOf(path: string): number {
  const parts = path.split('/')
  const stem = parts[0].replace(/\.[^.]*$/, '')
  const word = parts.length > 1 ? (parts.at(-2) as string) : stem.split('_')[0]
  const label = /^\d+$/.test(word) ? Number(word) : CLASS_BY_NAME.get(squash(word))
  if (label === undefined || label >= FASHION_MNIST_CLASSES.length)
    throw new PickedImagesError(
      `'${path}': '${word}' names no class; put each image in a folder named by its class, or start its ` +
        `name with the class and '_': 0–9 or ${FASHION_MNIST_CLASSES.join(', ')}`,
    )
  return label
}

/**
 * Grey levels of an RGBA image (ITU-R BT.601 weights), inverted when the mean of its border is light:
 * the dataset's images are bright on black.
 */
export function greyLevels(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): Uint8Array {
  const grey = new Uint8Array(width * height)
  for (let i = 0; i < grey.length; i++)
    grey[i] = Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2])
  let border = 0
  let count = 0
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (y === 0 || x === 0 || y === height - 1 || x === width - 1) {
        border += grey[y * width + x]
        count++
      }
  if (border / count > 127) for (let i = 0; i < grey.length; i++) grey[i] = 255 - grey[i]
  return grey
}

/** The picked files as a training set; PickedImagesError names the first file that cannot be used. */
export async function pickedImages(files: readonly File[]): Promise<ImageSet> {
  if (files.length === 0) throw new PickedImagesError('no image was picked')
  if (files.length > MAX_PICKED_FILES)
    throw new PickedImagesError(`${files.length} files picked; at most ${MAX_PICKED_FILES} at once`)
  const pixels = new Uint8Array(files.length * SIDE * SIDE)
  const labels = new Uint8Array(files.length)
  const canvas = new OffscreenCanvas(SIDE, SIDE)
  const context = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D
  for (const [i, file] of files.entries()) {
    const path = file.webkitRelativePath || file.name
    labels[i] = labelOf(path)
    const bitmap = await createImageBitmap(file).catch((err: Error) => {
      throw new PickedImagesError(`'${path}' is not an image this browser decodes: ${err.message}`)
    })
    const side = Math.min(bitmap.width, bitmap.height)
    const [sx, sy] = [(bitmap.width - side) / 2, (bitmap.height - side) / 2]
    context.clearRect(0, 0, SIDE, SIDE)
    context.drawImage(bitmap, sx, sy, side, side, 0, 0, SIDE, SIDE)
    bitmap.close()
    pixels.set(greyLevels(context.getImageData(0, 0, SIDE, SIDE).data, SIDE, SIDE), i * SIDE * SIDE)
  }
  const classes = FASHION_MNIST_CLASSES.length
  return { name: 'fashion-mnist', pixels, labels, count: files.length, height: SIDE, width: SIDE, classes }
}
