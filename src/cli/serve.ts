/** `zhuyi serve` (issue 7; being built). */
import type { Command } from 'commander';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('(not built yet: issue 7)')
    .allowUnknownOption()
    .action(() => {
      throw new Error('serve: not built yet (issue 7)');
    });
}
