package lb.dataplane.pipeline;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import lb.dataplane.flow.FlowTable;
import lb.dataplane.flow.FullPolicy;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.TcpHeader;
import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.SchedulerKind;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.Test;

import static lb.dataplane.pipeline.PacketPipelineTest.BACKEND_IPS;
import static lb.dataplane.pipeline.PacketPipelineTest.BACKEND_MACS;
import static lb.dataplane.pipeline.PacketPipelineTest.CLIENT_IP;
import static lb.dataplane.pipeline.PacketPipelineTest.CLIENT_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.CLIENT_SIDE_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.GATEWAY_IP;
import static lb.dataplane.pipeline.PacketPipelineTest.LB_CLIENT_IP;
import static lb.dataplane.pipeline.PacketPipelineTest.SERVER_SIDE_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.VIP;
import static lb.dataplane.pipeline.PacketPipelineTest.assertChecksumsValid;
import static lb.dataplane.pipeline.PacketPipelineTest.int32;
import static lb.dataplane.pipeline.PacketPipelineTest.port;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A SYN flood against a small table, frame by frame through the pipeline with the appliance's
 * table policy ({@link FullPolicy#EVICT_UNESTABLISHED}): established connections keep their entry
 * and backend, real clients' new connections get through, the flood's entries make room for each
 * other. The live version with real sockets is lb-control's SynFloodIT.
 */
final class SynFloodTest
{
    private static final int FLOWS = 4096;
    private static final int ESTABLISHED = 50;
    private static final int FLOOD_SYNS = 10 * FLOWS * 10; // ten times the table, ten times over
    private static final int NEW_CONNECTION_EVERY = 1_000;
    private static final int POKE_EVERY = 8_192;
    /** A slow client every 10,000 flood SYNs: its ACK comes 20,000 SYNs (half a second) after the SYN-ACK. */
    private static final int SLOW_EVERY = 10_000;
    private static final int SLOW_ACK_AFTER = 20_000;

    final List<byte[]> toClient = new ArrayList<>();
    final List<byte[]> toServer = new ArrayList<>();
    final CountersManager countersManager = new CountersManager(
        new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 20)), new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 16)));
    final DataplaneCounters counters = new DataplaneCounters(countersManager, 0);
    final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);
    PacketPipeline pipeline;
    long now = 1_000_000_000L;

    /** What a flood did to the connections. */
    record Outcome(int pokesFailed, int pokes, int newConnections, int newConnectionsOk, int slow, int slowOk)
    {
    }

    @Test
    void establishedConnectionsSurviveAFloodOfTenTimesTheTableAndNewOnesGetThrough()
    {
        final Outcome outcome = flood(FullPolicy.EVICT_UNESTABLISHED);

        assertEquals(0, outcome.pokesFailed(), "segments of established connections that did not reach their backend");
        assertEquals(outcome.newConnections(), outcome.newConnectionsOk(), "new connections completed during the flood");
        assertTrue(counters.flowsEvicted.get() > FLOOD_SYNS - 2 * FLOWS,
            "the flood's half-open flows made room for each other: " + counters.flowsEvicted.get());
        assertEquals(counters.flowsCreated.get() - counters.flowsEvicted.get(), pipeline.flowCount(),
            "every flow created is in the table or was evicted (none expire here)");
        assertTrue(pipeline.flowCount() <= FLOWS);
        assertEquals(0, counters.drops(DropReason.FLOW_TABLE_FULL), "no new flow was refused");
        // A half-open entry lives about 100 ms here; the slow clients' ACKs come 500 ms after their SYN-ACK and
        // find their backend in the cache of evicted half-open flows.
        assertEquals(outcome.slow(), outcome.slowOk(), "slow handshakes completed: " + outcome);
        assertEquals(outcome.slow(), counters.flowsRestored.get(), "each one restored from the evicted half-open cache");
    }

    /**
     * A table with room for one entry more: the new flow's return entry takes it, and the only evictable entry
     * near its forward key is that same return entry. The flow must be refused whole, not left without a return
     * entry (its backend's SYN-ACK would find none, and the client's retransmitted SYN would find the half-open
     * forward entry and never be re-picked).
     */
    @Test
    void aNewFlowThatCouldOnlyEvictItsOwnReturnEntryIsRefusedWhole()
    {
        final BackendPool pool = new BackendPool(16);
        pool.setMac(pool.add(BACKEND_IPS[0], 0, 1), BACKEND_MACS[0]);
        final ServiceTable services = new ServiceTable();
        services.add(new Service(0, "web", VIP, 80, 6, pool, SchedulerKind.ROUND_ROBIN.create(pool)));
        final FlowTable table = new FlowTable(3, FullPolicy.EVICT_UNESTABLISHED);
        pipeline = new PacketPipeline(services, table, counters, new BackendStatsTable(),
            PacketPipelineTest.capture(toClient), PacketPipelineTest.capture(toServer),
            PacketPipelineTest.capture(new ArrayList<>()), CLIENT_SIDE_MAC, SERVER_SIDE_MAC, LB_CLIENT_IP, GATEWAY_IP);
        assertTrue(handshake(30_000) != 0, "one established flow: two entries");

        final int before = toServer.size();
        pipeline.onClientFrame(frame, 0, TestFrames.tcp(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 30_001,
            80, TcpHeader.SYN, 0), 0, now);
        assertEquals(before, toServer.size(), "not forwarded");
        assertEquals(1, counters.drops(DropReason.FLOW_TABLE_FULL));
        assertEquals(2, table.size(), "only the established flow's entries");
        assertEquals(0, counters.flowsEvicted.get(), "no flow was evicted");
        assertEquals(1, pool.activeFlows(pool.find(BACKEND_IPS[0], 0)));
        assertTrue(poke(30_000, BACKEND_IPS[0]), "the established flow still works");
    }

    /** Why the appliance does not refuse when full: the flood's half-open flows would lock real clients out. */
    @Test
    void refusingWhenFullLetsTheFloodLockNewConnectionsOut()
    {
        final Outcome outcome = flood(FullPolicy.REFUSE);

        assertEquals(0, outcome.pokesFailed());
        assertTrue(outcome.newConnectionsOk() * 10 < outcome.newConnections(),
            "fewer than one in ten new connections: " + outcome);
    }

    /** Why it does not evict the stalest entry: an established connection idle for a moment is older than the flood. */
    @Test
    void evictingTheStalestEntryLetsTheFloodEvictEstablishedConnections()
    {
        final Outcome outcome = flood(FullPolicy.EVICT_STALEST);

        assertEquals(outcome.newConnections(), outcome.newConnectionsOk());
        assertTrue(outcome.pokesFailed() * 2 > outcome.pokes(), "most pokes failed: " + outcome);
    }

    /**
     * 50 connections established, then 409,600 SYNs from random sources at 40,000 a second (the
     * time passed in), a real client's new connection every 1,000 of them and a segment on every
     * established connection every 8,192.
     */
    private Outcome flood(final FullPolicy policy)
    {
        final BackendPool pool = new BackendPool(16);
        for (int i = 0; i < 3; i++)
        {
            pool.setMac(pool.add(BACKEND_IPS[i], 0, 1), BACKEND_MACS[i]);
        }
        final ServiceTable services = new ServiceTable();
        services.add(new Service(0, "web", VIP, 80, 6, pool, SchedulerKind.ROUND_ROBIN.create(pool)));
        pipeline = new PacketPipeline(services, new FlowTable(2 * FLOWS, policy), counters, new BackendStatsTable(),
            PacketPipelineTest.capture(toClient), PacketPipelineTest.capture(toServer),
            PacketPipelineTest.capture(new ArrayList<>()), CLIENT_SIDE_MAC, SERVER_SIDE_MAC, LB_CLIENT_IP, GATEWAY_IP);

        final int[] establishedBackend = new int[ESTABLISHED];
        for (int i = 0; i < ESTABLISHED; i++)
        {
            establishedBackend[i] = handshake(30_000 + i);
            assertTrue(establishedBackend[i] != 0, "connection " + i + " established before the flood");
        }

        final Random random = new Random(7);
        int newConnections = 0;
        int newConnectionsOk = 0;
        int pokesFailed = 0;
        int pokes = 0;
        final int[] slowPort = new int[FLOOD_SYNS / SLOW_EVERY];
        final int[] slowBackend = new int[slowPort.length];
        int slow = 0;
        int slowOk = 0;
        for (int i = 1; i <= FLOOD_SYNS; i++)
        {
            // A SYN from a random source of 198.18.4.0-198.18.255.255 and port, never answered.
            final int source = 0xC612_0000 | (4 * 256 + random.nextInt(65536 - 4 * 256));
            now += 25_000; // 40,000 SYNs a second
            pipeline.onClientFrame(frame, 0, TestFrames.tcp(frame, CLIENT_SIDE_MAC, CLIENT_MAC, source, VIP,
                1024 + random.nextInt(60_000), 80, TcpHeader.SYN, 0), 0, now);
            if (i % NEW_CONNECTION_EVERY == 0)
            {
                newConnections++;
                newConnectionsOk += handshake(40_000 + newConnections) != 0 ? 1 : 0;
            }
            if (i % SLOW_EVERY == 0)
            {
                slowPort[i / SLOW_EVERY - 1] = 50_000 + i / SLOW_EVERY;
                slowBackend[i / SLOW_EVERY - 1] = open(50_000 + i / SLOW_EVERY);
            }
            if (i > SLOW_ACK_AFTER && (i - SLOW_ACK_AFTER) % SLOW_EVERY == 0)
            {
                final int c = (i - SLOW_ACK_AFTER) / SLOW_EVERY - 1;
                slow++;
                slowOk += slowBackend[c] != 0 && poke(slowPort[c], slowBackend[c]) ? 1 : 0;
            }
            if (i % POKE_EVERY == 0)
            {
                for (int c = 0; c < ESTABLISHED; c++)
                {
                    pokesFailed += poke(30_000 + c, establishedBackend[c]) ? 0 : 1;
                    pokes++;
                }
            }
        }

        return new Outcome(pokesFailed, pokes, newConnections, newConnectionsOk, slow, slowOk);
    }

    /**
     * A client opens a connection: SYN to the VIP, the backend's SYN-ACK back, the client's ACK.
     *
     * @return the backend's address when all three went through, else 0
     */
    private int handshake(final int clientPort)
    {
        final int backend = open(clientPort);
        return backend != 0 && poke(clientPort, backend) ? backend : 0;
    }

    /**
     * The first two segments of a handshake: the client's SYN to the VIP and the backend's SYN-ACK back.
     *
     * @return the backend's address when both went through, else 0
     */
    private int open(final int clientPort)
    {
        final int before = toServer.size();
        pipeline.onClientFrame(frame, 0, TestFrames.tcp(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, clientPort,
            80, TcpHeader.SYN, 0), 0, now);
        if (toServer.size() != before + 1)
        {
            return 0;
        }
        final int backend = int32(toServer.get(before), 30);
        final int index = backendIndex(backend);
        final int answered = toClient.size();
        pipeline.onServerFrame(frame, 0, TestFrames.tcp(frame, SERVER_SIDE_MAC, BACKEND_MACS[index], backend,
            CLIENT_IP, 80, clientPort, TcpHeader.SYN | TcpHeader.ACK, 0), 0, now);
        return toClient.size() == answered + 1 && int32(toClient.get(answered), 26) == VIP ? backend : 0;
    }

    /** The client sends 100 bytes: true when they reach the same backend, rewritten and with valid checksums. */
    private boolean poke(final int clientPort, final int backend)
    {
        final int before = toServer.size();
        final long noFlowBefore = counters.drops(DropReason.NO_FLOW);
        pipeline.onClientFrame(frame, 0, TestFrames.tcp(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, clientPort,
            80, TcpHeader.ACK, 100), 0, now);
        if (toServer.size() != before + 1 || counters.drops(DropReason.NO_FLOW) != noFlowBefore)
        {
            return false;
        }
        final byte[] out = toServer.get(before);
        assertChecksumsValid(out);
        toServer.clear();
        toClient.clear();
        return int32(out, 30) == backend && port(out, 36) == 80;
    }

    private static int backendIndex(final int backend)
    {
        for (int i = 0; i < BACKEND_IPS.length; i++)
        {
            if (BACKEND_IPS[i] == backend)
            {
                return i;
            }
        }
        throw new AssertionError("not a backend: " + backend);
    }
}
