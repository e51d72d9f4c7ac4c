import { Command } from 'commander';
import { encodeInviteLink } from '@canopy/core/net';
import { createOutput } from '../output.js';
import { loadNetwork } from './nodeOptions.js';

/** `canopy network link <file>`: checks a network file and prints its invite link. */
export function networkCommand(): Command {
  const network = new Command('network').summary('network files and invite links (see docs/DEPLOY.md)');
  network
    .command('link')
    .summary('check a network file and print its invite link (canopy://network/…)')
    .description(
      'Reads a network file (YAML or JSON: name, bootstrap, relays) or an invite link, checks it as\n' +
        'canopy node --network would, and prints the invite link that the desktop app\'s Join a network\n' +
        'card and canopy node --network take.\n\n' +
        'Example:\n  canopy network link network.yaml',
    )
    .argument('<file|link>', 'a network file, or an invite link to check')
    .option('--json', 'print {name, bootstrap, relays?, link}', false)
    .action(async (value: string, flags: { json: boolean }) => {
      const out = createOutput({ json: flags.json });
      const n = await loadNetwork(value, 'network');
      const link = encodeInviteLink(n);
      out.say(link);
      out.record({ ...n, link });
    });
  return network;
}
