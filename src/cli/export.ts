/** `zhuyi export` (issue 7; being built). */
import type { Command } from 'commander';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('(not built yet: issue 7)')
    .allowUnknownOption()
    .action(() => {
      throw new Error('export: not built yet (issue 7)');
    });
}
