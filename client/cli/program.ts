// The `sluice` command tree: global options, the commands, and the one place where an outcome
// becomes an exit code (0 ok, 1 the operation failed, 2 the command line is wrong).
import { Command, CommanderError, Option } from 'commander';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, describeFailure } from './cli-errors.ts';
import { BOOTSTRAP_ENV, DEFAULT_BOOTSTRAP_SERVERS, parseInteger, parseOutputFormat, resolveBootstrapServers } from './option-parsers.ts';
import { processIo, type CliContext, type CliIo } from './output.ts';
import { registerApplyCommand } from './commands/apply.ts';
import { registerClusterCommand } from './commands/cluster.ts';
import { registerConsumeCommand } from './commands/consume.ts';
import { registerDevCommand } from './commands/dev.ts';
import { registerPerfCommand } from './commands/perf.ts';
import { registerProduceCommand } from './commands/produce.ts';
import { registerTopicCommand } from './commands/topic.ts';

// Shorter than the library's 30 s: a person at a terminal should hear that nothing answers
// at that address well before they give up on the command.
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** How a command reaches the global options and the process's streams. */
export type ContextOf = (command: Command) => CliContext;

export function buildProgram(io: CliIo): Command {
  const program = new Command('sluice');
  program
    .description('Sluice: a replicated, partitioned log. Run a local cluster, manage topics, produce and consume.')
    .addOption(new Option('--bootstrap-server <host:port,...>',
      `brokers to connect to (default: $${BOOTSTRAP_ENV}, else ${DEFAULT_BOOTSTRAP_SERVERS})`))
    .addOption(new Option('--output <format>', 'text for people, json for scripts').choices(['text', 'json']).default('text'))
    .addOption(new Option('--request-timeout-ms <ms>', 'how long a request may take, retries included, before the command fails')
      .argParser((v) => parseInteger('--request-timeout-ms', v, { min: 1 })).default(DEFAULT_REQUEST_TIMEOUT_MS))
    .addHelpText('after', `
Exit codes: 0 done; 1 the operation failed (stderr: "error [SLUICE_CODE]: …" and a hint);
2 the command line is wrong (nothing was sent). Start here: sluice dev`)
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    // Usage errors become exceptions so runCli, not commander, picks the exit code.
    .exitOverride();

  const contextOf: ContextOf = (command) => {
    const opts = command.optsWithGlobals<{ bootstrapServer?: string; output: string; requestTimeoutMs: number }>();
    return {
      io,
      bootstrapServers: resolveBootstrapServers(opts.bootstrapServer, io.env),
      output: parseOutputFormat(opts.output),
      requestTimeoutMs: opts.requestTimeoutMs,
    };
  };

  registerDevCommand(program, contextOf);
  registerTopicCommand(program, contextOf);
  registerApplyCommand(program, contextOf);
  registerProduceCommand(program, contextOf);
  registerConsumeCommand(program, contextOf);
  registerClusterCommand(program, contextOf);
  registerPerfCommand(program, contextOf);
  return program;
}

/** Runs one command line (without `node main.ts`) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its message (or the help that was asked for).
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    io.stderr.write(`${describeFailure(err)}\n`);
    return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
  }
}
