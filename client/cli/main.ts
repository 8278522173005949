#!/usr/bin/env node
// The `sluice` command. Everything lives in program.ts so tests can run command lines in-process.
import { runCli } from './program.ts';

// `sluice consume … | head` closes the pipe early; that ends the command, it is not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// A client handle left open (a gRPC channel, a timer) must not keep a finished command alive;
// unref'd, so a command that is done exits at once and this fires only if something lingers.
setTimeout(() => process.exit(code), 2_000).unref();
