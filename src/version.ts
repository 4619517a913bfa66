// tlr's version, in one place: the CLI's --version, run folders' environment.json, feature-cache
// keys and the marker in saved model folders all read it. Keep it equal to package.json's
// (a test checks).
export const TLR_VERSION = '0.1.0';
