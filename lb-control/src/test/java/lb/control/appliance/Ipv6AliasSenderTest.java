package lb.control.appliance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import lb.control.config.IpAddresses;
import lb.control.config.Ipv6Address;
import lb.dataplane.worker.CommandApplier;
import lb.dataplane.worker.Commands;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;
import org.junit.jupiter.api.Test;

/** ADD_ADDRESS6 reaches every worker's real command applier once per alias, before the command that follows it. */
class Ipv6AliasSenderTest
{
    private final CountersManager counters = new CountersManager(
        new UnsafeBuffer(ByteBuffer.allocateDirect(512 * CountersReader.METADATA_LENGTH)),
        new UnsafeBuffer(ByteBuffer.allocateDirect(512 * CountersReader.COUNTER_LENGTH)));
    private final List<DataplaneWorker> workers = List.of(
        new DataplaneWorker(0, counters, 1024, 0), new DataplaneWorker(1, counters, 1024, 0));
    private final CommandRings rings = new CommandRings(workers);
    private final List<CommandApplier> appliers = new ArrayList<>();
    private final List<List<Integer>> typesSeen = List.of(new ArrayList<>(), new ArrayList<>());

    Ipv6AliasSenderTest()
    {
        for (final DataplaneWorker w : workers)
        {
            appliers.add(new CommandApplier(w.services, w.flows, w.backendStats, w.counters.commandsApplied,
                w.counters.commandsRejected));
        }
    }

    private void drain()
    {
        for (int i = 0; i < workers.size(); i++)
        {
            final int worker = i;
            workers.get(i).commands.read((type, buffer, index, length) ->
            {
                typesSeen.get(worker).add(type);
                appliers.get(worker).apply(type, buffer, index);
            });
        }
    }

    @Test
    void everyAliasIsSentOnceToEveryWorkerBeforeWhatFollows()
    {
        final int backend = IpAddresses.parse("2001:2:0:1::41");
        final int vip = IpAddresses.parse("2001:2::141");
        final Ipv6AliasSender sender = new Ipv6AliasSender();
        assertTrue(sender.sendNew(rings));
        drain();
        final Map<Integer, Ipv6Address> all = IpAddresses.all6();
        for (int i = 0; i < workers.size(); i++)
        {
            assertEquals(all.size(), appliers.get(i).aliases().size(), "every alias handed out so far");
            assertEquals(0x2001000200000001L, appliers.get(i).aliases().high(backend));
            assertEquals(0x41L, appliers.get(i).aliases().low(backend));
            assertEquals(backend, appliers.get(i).aliases().alias(0x2001000200000001L, 0x41L));
            assertEquals(0x141L, appliers.get(i).aliases().low(vip));
            assertEquals(all.size(), workers.get(i).counters.commandsApplied.get());
            assertEquals(0, workers.get(i).counters.commandsRejected.get());
        }

        assertTrue(sender.sendNew(rings));
        drain();
        assertEquals(all.size(), typesSeen.get(0).size(), "nothing sent twice");

        // A new address a command brings: its ADD_ADDRESS6 goes first, then the command.
        final int added = IpAddresses.parse("2001:2:0:1::42");
        assertTrue(sender.sendNew(rings));
        final UnsafeBuffer health = new UnsafeBuffer(new byte[Commands.HEALTH_LENGTH]);
        rings.write(Commands.BACKEND_HEALTH, health, 0, Commands.encodeHealth(health, 0, added, true, 0x02_00_00_00_00_42L));
        drain();
        for (int i = 0; i < workers.size(); i++)
        {
            final List<Integer> types = typesSeen.get(i);
            assertEquals(List.of(Commands.ADD_ADDRESS6, Commands.BACKEND_HEALTH), types.subList(types.size() - 2, types.size()));
            assertEquals(0x42L, appliers.get(i).aliases().low(added));
        }
    }
}
