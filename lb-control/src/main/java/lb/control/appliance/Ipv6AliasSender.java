package lb.control.appliance;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import lb.control.config.IpAddresses;
import lb.control.config.Ipv6Address;
import lb.dataplane.worker.Commands;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Tells every worker the IPv6 address behind each alias ({@code ADD_ADDRESS6}) before any command
 * uses the alias. Aliases are handed out by {@link IpAddresses} when text is parsed (the config at
 * start, a control command at run time), so before each command the aliases not yet sent go first
 * through the same rings: a ring is FIFO, so the worker knows the address when the command that
 * names it arrives.
 */
final class Ipv6AliasSender
{
    private final Set<Integer> sent = new HashSet<>();
    private final UnsafeBuffer message = new UnsafeBuffer(new byte[Commands.ADDRESS6_LENGTH]);

    /**
     * Writes {@code ADD_ADDRESS6} to every worker for each alias not sent before.
     *
     * @return false when a ring had no room: what was not written is sent next time.
     */
    synchronized boolean sendNew(final CommandRings commands)
    {
        if (IpAddresses.count6() == sent.size())
        {
            return true;
        }
        for (final Map.Entry<Integer, Ipv6Address> alias : IpAddresses.all6().entrySet())
        {
            if (sent.contains(alias.getKey()))
            {
                continue;
            }
            final int length = Commands.encodeAddress6(message, 0, alias.getKey(), alias.getValue().high(),
                alias.getValue().low());
            if (commands.write(Commands.ADD_ADDRESS6, message, 0, length) == null)
            {
                return false;
            }
            sent.add(alias.getKey());
        }
        return true;
    }
}
