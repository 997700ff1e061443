import type { BuildOptions } from 'esbuild';
export declare const buildOptions: BuildOptions & { metafile: true };
export declare function build(): Promise<{ ms: number; files: number; bytes: number }>;
