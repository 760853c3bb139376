/**
 * Hub ids on the command line: a `--model` of `bert` commands, or the model folder argument of
 * bert, export and viz commands, may be 'org/name'; it is downloaded into Hugging Face's cache (or
 * found there) before the action runs, and the action gets the snapshot folder.
 */
import type { Command } from 'commander';
import { ensureModelFolder, isHubId } from '../io/hub.js';

/** Commands whose folder argument or --model may name a Hub model (translation folders are zhuyi's own). */
const TAKES_HUB_IDS = /^(bert( |$)|export$|viz$)/;

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Replaces Hub ids among the action's --model option and 'dir'/'model' arguments by their local snapshot folders. */
export async function resolveHubIds(cmd: Command): Promise<void> {
  if (!TAKES_HUB_IDS.test(commandPath(cmd))) return;
  const log = (line: string): void => { process.stderr.write(`${line}\n`); };
  const model = cmd.getOptionValue('model') as unknown;
  if (typeof model === 'string' && isHubId(model)) cmd.setOptionValue('model', await ensureModelFolder(model, { log }));
  const args = cmd.registeredArguments;
  for (let i = 0; i < args.length; i++) {
    const value = cmd.processedArgs[i] as unknown;
    if ((args[i]!.name() === 'dir' || args[i]!.name() === 'model') && typeof value === 'string' && isHubId(value)) {
      cmd.processedArgs[i] = await ensureModelFolder(value, { log });
    }
  }
}
