/** `zhuyi viz` (issue 7; being built). */
import type { Command } from 'commander';

export function registerViz(program: Command): void {
  program
    .command('viz')
    .description('(not built yet: issue 7)')
    .allowUnknownOption()
    .action(() => {
      throw new Error('viz: not built yet (issue 7)');
    });
}
