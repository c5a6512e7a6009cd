/** Types of compile.cjs (CommonJS so the launcher's bootstrap can run it before any TypeScript). */
export declare const COMPILED_CONDITION: '@quizmesh/compiled';
export declare const COMPILED_DIR: 'compiled';
export declare function runtimeWorkspaces(repoRoot: string): string[];
export declare function compileWorkspaces(repoRoot: string): Promise<{ transpiled: number; ms: number }>;
