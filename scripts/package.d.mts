// Types of what scripts/package.mjs exports (the unit tier imports it).
export declare const PATHS: {
  LIB: string
  BIN: string
  NODE: string
  RULES: string
  UNIT: string
  HOOKS_D: string
  HOOK_FILES: string[]
  MAN: string
  DOC: string
}
export declare function nodeDepends(range: string | undefined): string
export declare function controlFile(template: string, o: { version: string; installedKb: number; pkg: { homepage?: string; engines?: { node?: string } } }): string
export declare function fill(template: string): string
export declare function packaged(template: string, how: string): string
export declare function rulesFile(template: string): string
export declare function unitFile(template: string): string
export declare const ENVIRONMENT: [name: string, text: string][]
export declare function manPage(o: { help: (...cmd: string[]) => string; version: string; date: string }): string
export declare const EXAMPLES: [what: string, lines: string[]][]
