/** See dist-stale.mjs: why dist/ under the project folder `root` lacks a build of its current sources, or undefined. */
export function distStale(root: URL): string | undefined;
