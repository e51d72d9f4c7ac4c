// Bounds on a manifest's size and shape, checked before anything recursive touches it: the
// YAML composer, zod's lazy cluster schema and the job-tree walk all recurse once per level,
// so a manifest nested thousands deep (or an alias bomb) would exhaust the stack or memory
// instead of failing with a ManifestError that names the field (docs/CLI.md, "Manifest limits").

/** The limits every manifest (job or scenario) is held to. Documented in docs/CLI.md. */
export const MANIFEST_LIMITS = {
  /** Bytes of YAML text. */
  maxTextBytes: 8 * 1024 * 1024,
  /** Open flow brackets (`[`, `{`) nested in the YAML text. */
  maxFlowDepth: 64,
  /** Columns of block indentation (leading spaces and `- ` / `? ` indicators) of any line. */
  maxIndentColumns: 256,
  /** Aliases (`*name`) the YAML may expand; beyond it, an alias bomb. */
  maxAliases: 100,
  /** Objects and lists nested in the parsed value. */
  maxValueDepth: 64,
  /** Characters of any one string. */
  maxStringLength: 4096,
  /** Items of any one list or keys of any one mapping. */
  maxListLength: 100_000,
  /** Values (strings, numbers, lists, mappings) in the whole manifest. */
  maxValues: 2_000_000,
  /** Levels of clusters below the root cluster. */
  maxClusterDepth: 16,
  /** Sub-clusters of one cluster. */
  maxFanOut: 10_000,
  /** Clusters (jobs) in the whole tree. */
  maxClusters: 100_000,
  /** Leaf client slots in the whole tree (the simulator's generated trees go this far). */
  maxClients: 1_000_000,
} as const;

/**
 * Checks the YAML text before it is parsed: its size, how deep its flow brackets nest and how
 * far any line is indented. Returns one problem line, or undefined when the text is within
 * bounds. Quoted scalars and comments are skipped so brackets inside them do not count.
 */
export function checkManifestText(text: string): string | undefined {
  if (text.length > MANIFEST_LIMITS.maxTextBytes) return `(top level): the manifest is ${text.length} characters, more than the limit of ${MANIFEST_LIMITS.maxTextBytes}`;
  let depth = 0;
  let line = 1;
  let lineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') {
      line++;
      lineStart = true;
      indent = 0;
      continue;
    }
    if (lineStart) {
      // Block structure nests by column: leading spaces and compact `- - -` / `? ` indicators.
      if (ch === ' ' || ((ch === '-' || ch === '?') && (text[i + 1] === ' ' || text[i + 1] === '\n'))) {
        indent++;
        if (indent > MANIFEST_LIMITS.maxIndentColumns) return `(top level): line ${line} is nested more than ${MANIFEST_LIMITS.maxIndentColumns} columns deep`;
        continue;
      }
      lineStart = false;
    }
    if (ch === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf('\n', i);
      i = (end < 0 ? text.length : end) - 1;
    } else if ((ch === '"' || ch === "'") && (i === 0 || /[\s[{,:]/.test(text[i - 1]!))) {
      const end = skipQuoted(text, i, ch);
      // Checked here because the YAML library takes seconds to unescape a quoted megabyte.
      if (end - i - 1 > MANIFEST_LIMITS.maxStringLength) return `(top level): line ${line} has a quoted string of more than ${MANIFEST_LIMITS.maxStringLength} characters`;
      i = end;
    } else if (ch === '[' || ch === '{') {
      depth++;
      if (depth > MANIFEST_LIMITS.maxFlowDepth) return `(top level): line ${line} nests brackets more than ${MANIFEST_LIMITS.maxFlowDepth} deep`;
    } else if ((ch === ']' || ch === '}') && depth > 0) {
      depth--;
    }
  }
  return undefined;
}

// Index of the closing quote (or the text's end). Only a quote where YAML can open a quoted
// scalar gets here, so an apostrophe inside a plain scalar (`it's`) is not taken for one.
function skipQuoted(text: string, start: number, quote: string): number {
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === '"' && ch === '\\') i++;
    else if (ch === quote) {
      if (quote === "'" && text[i + 1] === "'") i++;
      else return i;
    }
  }
  return text.length;
}

/**
 * Walks a parsed value without recursion and reports the first place where it breaks a
 * bound: nesting, a string's length, a list's length or the number of values in all.
 * Returns `path: problem`, or undefined when the value is within bounds.
 */
export function checkManifestValue(value: unknown): string | undefined {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: '', depth: 0 }];
  let count = 0;
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (++count > MANIFEST_LIMITS.maxValues) return `(top level): more than ${MANIFEST_LIMITS.maxValues} values in the manifest`;
    // A path as deep as the limit would fill the screen; its start and end say where.
    const at = path === '' ? '(top level)' : path.length > 120 ? `${path.slice(0, 60)}…${path.slice(-40)}` : path;
    if (typeof v === 'string') {
      if (v.length > MANIFEST_LIMITS.maxStringLength) return `${at}: a string of ${v.length} characters, more than the limit of ${MANIFEST_LIMITS.maxStringLength}`;
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MANIFEST_LIMITS.maxValueDepth) return `${at}: nested more than ${MANIFEST_LIMITS.maxValueDepth} levels deep`;
    if (Array.isArray(v)) {
      if (v.length > MANIFEST_LIMITS.maxListLength) return `${at}: a list of ${v.length} items, more than the limit of ${MANIFEST_LIMITS.maxListLength}`;
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}[${i}]`, depth: depth + 1 });
    } else {
      const keys = Object.keys(v);
      if (keys.length > MANIFEST_LIMITS.maxListLength) return `${at}: a mapping of ${keys.length} keys, more than the limit of ${MANIFEST_LIMITS.maxListLength}`;
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i]!;
        if (k.length > MANIFEST_LIMITS.maxStringLength) return `${at}: a key of ${k.length} characters, more than the limit of ${MANIFEST_LIMITS.maxStringLength}`;
        stack.push({ v: (v as Record<string, unknown>)[k], path: path === '' ? k : `${path}.${k}`, depth: depth + 1 });
      }
    }
  }
  return undefined;
}
