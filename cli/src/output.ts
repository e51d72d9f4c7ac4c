import cliProgress from 'cli-progress';

/**
 * Where a command writes. Results go to stdout (one JSON object per line under `--json`,
 * the last line being the summary); progress and logs go to stderr, so `--json` output can
 * be piped straight into another program.
 */
export interface Output {
  readonly json: boolean;
  /** A human line on stdout (suppressed under --json). */
  say(text: string): void;
  /** A JSON record on stdout (only under --json). */
  record(value: unknown): void;
  /** A progress bar on stderr (a TTY), or throttled progress lines (not a TTY). */
  progress(label: string, total: number): Progress;
}

/** A warning on stderr, in every mode: the command goes on. */
export function warn(text: string): void {
  process.stderr.write(`warning: ${text}\n`);
}

/** A running progress indicator. */
export interface Progress {
  update(done: number, info?: string): void;
  /** A line of its own on stderr (a warning, say) that leaves the indicator intact. */
  note(text: string): void;
  stop(): void;
}

/** Creates the output for a command. */
export function createOutput({ json }: { json: boolean }): Output {
  return {
    json,
    say: (text) => {
      if (!json) process.stdout.write(`${text}\n`);
    },
    record: (value) => {
      if (json) process.stdout.write(`${JSON.stringify(value)}\n`);
    },
    progress: (label, total) => (process.stderr.isTTY ? barProgress(label, total) : lineProgress(label, total)),
  };
}

function barProgress(label: string, total: number): Progress {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} {info}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
      // Redraw on every tick even when nothing changed, so a note() printed over the bar's
      // line is followed by the bar again at once.
      forceRedraw: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { info: '' });
  return {
    update: (done, info = '') => bar.update(done, { info }),
    note: (text) => {
      // Clear the bar's line and print the note there; the next tick draws the bar below it.
      process.stderr.write(`\r\x1b[2K${text}\n`);
    },
    stop: () => bar.stop(),
  };
}

// Without a terminal (CI logs, pipes) a bar would be noise: print a line at most every
// few seconds, and always the last one.
function lineProgress(label: string, total: number): Progress {
  let lastAt = Date.now();
  let lastText = '';
  return {
    update: (done, info = '') => {
      lastText = `${label} ${done}/${total} ${info}`.trimEnd();
      const now = Date.now();
      if (now - lastAt >= 2000 || done === total) {
        lastAt = now;
        process.stderr.write(`${lastText}\n`);
        lastText = '';
      }
    },
    note: (text) => process.stderr.write(`${text}\n`),
    stop: () => {
      if (lastText) process.stderr.write(`${lastText}\n`);
    },
  };
}
