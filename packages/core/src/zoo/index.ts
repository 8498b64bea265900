export type { ZooModel, ZooOptions } from './common.ts'
export { GPT2_CONFIGS, type GPT2Config, type GPT2Options, gpt2 } from './gpt2.ts'
export { RESNET_LAYOUTS, type ResNetOptions, resnet } from './resnet.ts'
export { type MlpOptions, type MnistCnnOptions, mlp, mnistCnn } from './small.ts'
