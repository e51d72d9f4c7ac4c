import { join } from 'node:path';
import { Command } from 'commander';
import { DEFAULT_LISTEN, IDENTITY_FILE, loadOrCreateIdentity, plannedAddresses, type PlannedAddress } from '@canopy/core/net';
import { MemberId, formatPeersEntry, isDialableElsewhere, withPeerId } from '@canopy/core/protocol';
import { BadInputError } from '@canopy/core/util';
import { createOutput } from '../output.js';
import { DEFAULT_DATA_DIR } from './nodeOptions.js';

interface IdFlags {
  dataDir: string;
  listen?: string[];
  name: string;
  json: boolean;
}

/** `canopy id`: a node's peer id and addresses, read from its data dir without starting it. */
export function idCommand(): Command {
  return new Command('id')
    .summary("print a node's peer id and addresses, and the peers: entry to send to a job's organiser")
    .description(
      "Reads the node's identity from --data-dir (creating it if there is none yet, as `canopy node`\n" +
        'would on its first start) and works out the addresses `canopy node` with the same --listen would\n' +
        'listen on and advertise, without starting it. Prints the `peers:` entry of a job manifest for\n' +
        'this node: send it to the organiser of a job you take part in.',
    )
    .option('--data-dir <dir>', "the node's data directory (as given to canopy node)", DEFAULT_DATA_DIR)
    .option('--listen <multiaddr...>', 'the listen addresses you give canopy node (default: its default)')
    .option('--name <member>', 'your name in the job, for the peers: entry', 'me')
    .option('--json', 'print {peerId, dataDir, created, addresses, peers}', false)
    .action(async (flags: IdFlags) => {
      const out = createOutput({ json: flags.json });
      const name = MemberId.safeParse(flags.name);
      if (!name.success) throw new BadInputError(`--name ${flags.name}: ${name.error.issues[0]!.message}`);
      const listen = flags.listen ?? [...DEFAULT_LISTEN];
      // Worked out before the identity is read or created, so a typo leaves nothing behind.
      const planned = plannedAddresses(listen);
      const { peerId, created } = await loadOrCreateIdentity(flags.dataDir);
      const addresses = planned.map((p) => ({ ...p, address: withPeerId(p.address, peerId) }));
      const entry = formatPeersEntry(flags.name, peerId, addresses.map((p) => p.address));
      if (created) process.stderr.write(`canopy id: created a new identity in ${join(flags.dataDir, IDENTITY_FILE)}; canopy node --data-dir ${flags.dataDir} will use it\n`);
      out.say(`peer id    ${peerId}`);
      out.say(`data dir   ${flags.dataDir}`);
      out.say(`addresses  what canopy node would listen on and advertise${flags.listen ? ' with this --listen' : ''}:`);
      for (const p of addresses) out.say(`           ${p.address}${note(p)}`);
      out.say('');
      out.say(`Send this to the organiser of a job you take part in, for its manifest (--name sets the name the job gives you):`);
      out.say('');
      out.say(entry.trimEnd());
      const dialable = addresses.map((p) => p.address).filter(isDialableElsewhere);
      if (dialable.length === 0) {
        out.say('');
        out.say('No address above can be dialled from another machine, so the entry holds the peer id alone. Listen on');
        out.say('a reachable interface with a fixed port (--listen /ip4/0.0.0.0/tcp/4001), or join a network whose relays');
        out.say('carry connections to this node.');
      }
      out.record({
        peerId,
        dataDir: flags.dataDir,
        created,
        addresses,
        peers: { [flags.name]: { peerId, ...(dialable.length > 0 ? { addresses: dialable } : {}) } },
      });
    });
}

function note(p: PlannedAddress): string {
  if (p.portAtStart) return '  (port chosen when the node starts: give --listen with a fixed port to know it now)';
  if (p.loopback) return '  (this machine only)';
  return p.from === 'announce' ? '  (announced)' : '';
}
