// Types of readme-blocks.mjs, for the docs tests that import it.
export interface Block {
  source: string;
  line: number;
  index: number;
  heading: string;
  lang: "ts" | "yaml" | "sh" | "text";
  code: string;
  /** Relative to docs/readme/. */
  file: string;
}
export const root: string;
export const outDir: string;
export function sources(): string[];
export function blocksOf(source: string, text?: string): { blocks: Block[]; problems: string[] };
export function fileText(block: Block): string;
export function codeOf(fileContent: string): string;
export function allBlocks(): { blocks: Block[]; problems: string[] };
export function check(): { blocks: Block[]; problems: string[] };
