// What counts as an image and how data folders are laid out; shared by the probe and the runtime.

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff'];

export const isImageFile = (name: string): boolean => {
  const dot = name.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.includes(name.slice(dot).toLowerCase());
};

export const SPLIT_FOLDERS = {
  train: ['train', 'training'],
  validation: ['val', 'validation', 'valid'],
  test: ['test', 'testing'],
} as const;

export type SplitName = keyof typeof SPLIT_FOLDERS;

export const IDX_FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;
