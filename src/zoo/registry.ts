// Where `weights imagenet` comes from, per network and width. Plain data: the runtime downloads,
// caches and verifies; the checker and `tlr models` only report what is here.

/** Where Teachable Machine serves Keras' MobileNetV2 bases as TF.js layers models. */
const TEACHABLE = 'https://storage.googleapis.com/teachable-machine-models';

export type WeightsFormat = 'tfjs' | 'safetensors';

export interface WeightsSource {
  readonly url: string;
  readonly format: WeightsFormat;
  /**
   * sha256 of the file at `url` (model.json for tfjs) when known; otherwise the lock file pins it on first download.
   */
  readonly sha256: string | null;
  /** Folder name looked up under $TLR_WEIGHTS_DIR before any download. */
  readonly localName: string;
  /** What the file holds: the full ImageNet classifier, or the backbone only. */
  readonly includesTop: boolean;
  readonly note?: string;
}

const tfjsV1 = (w: string): WeightsSource => ({
  url: `https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_${w}_224/model.json`,
  format: 'tfjs',
  sha256: null,
  localName: `mobilenet_v1_${w}_224`,
  includesTop: true,
});
const tmV2 = (w: string): WeightsSource => ({
  url: `${TEACHABLE}/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_${w}_224_no_top/model.json`,
  format: 'tfjs',
  sha256: null,
  localName: `mobilenet_v2_${w}_224_no_top`,
  includesTop: false,
});
// torchvision's ImageNet weights as timm republished them in safetensors (the `.tv_in1k` tags).
const timm = (name: string): WeightsSource => ({
  url: `https://huggingface.co/timm/${name}.tv_in1k/resolve/main/model.safetensors`,
  format: 'safetensors',
  sha256: null,
  localName: `${name}.tv_in1k`,
  includesTop: true,
});

/** Keyed by `${network}` or `${network}@${width}` for networks with a width multiplier. */
export const IMAGENET_WEIGHTS: Readonly<Record<string, WeightsSource | null>> = {
  'mobilenet_v1@0.25': tfjsV1('0.25'),
  'mobilenet_v1@0.5': tfjsV1('0.50'),
  'mobilenet_v1@0.75': tfjsV1('0.75'),
  'mobilenet_v1@1': tfjsV1('1.0'),
  'mobilenet_v2@0.35': tmV2('0.35'),
  'mobilenet_v2@0.5': tmV2('0.50'),
  'mobilenet_v2@0.75': tmV2('0.75'),
  'mobilenet_v2@1': tmV2('1.00'),
  // No public TF.js or safetensors release of the Keras MobileNetV2 1.4 weights.
  'mobilenet_v2@1.4': null,
  resnet18: timm('resnet18'),
  resnet34: timm('resnet34'),
  resnet50: timm('resnet50'),
  resnet101: timm('resnet101'),
  resnet152: timm('resnet152'),
  vgg16: timm('vgg16'),
  vgg19: timm('vgg19'),
  densenet121: timm('densenet121'),
  densenet161: timm('densenet161'),
  densenet169: timm('densenet169'),
  inception_v3: timm('inception_v3'),
  // torchvision publishes AlexNet only as a pickled .pth, which tlr does not read.
  alexnet: null,
};

/** The registry key of a network at a width. */
export const weightsKey = (network: string, width: number | null): string =>
  width === null ? network : `${network}@${width}`;
