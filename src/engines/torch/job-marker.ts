// The file inside every job folder tlr writes (tlr export --torchrun): an existing folder is
// reused only when it holds one. Its own module: the engine's row names it without loading the rest.
export const JOB_MARKER = '.tlr-job';
