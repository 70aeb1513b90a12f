package lb.dataplane.pipeline;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import lb.dataplane.checksum.Checksums;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.FrameClassifier;
import lb.dataplane.packet.ParsedFrame;
import lb.dataplane.spread.NextHopGroup;
import lb.dataplane.spread.RouteForwarder;
import lb.dataplane.spread.SpreadPolicy;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A route service end to end in the dataplane: frames in, frames out, through RouteForwarder. */
class RouteForwarderTest
{
    static final long LB_MAC = 0x02_00_00_00_00_01L;
    static final long CLIENT_MAC = 0x02_00_00_00_00_0AL;
    static final int CLIENT = 0xC612_000B;  // 198.18.0.11
    static final int SERVER = 0xC613_0005;  // 198.19.0.5, behind the next hops
    static final int PREFIX = 0xC613_0000;  // 198.19.0.0/16
    static final long HOP_MAC = 0x02_00_00_00_01_00L;
    static final int SYN = 0x02;
    static final int ACK = 0x10;
    static final int FIN = 0x01;

    final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);
    final ParsedFrame parsed = new ParsedFrame();
    /** Destination MAC, TTL and 1 if the IPv4 header checksum verifies, of every frame sent. */
    final List<long[]> sent = new ArrayList<>();
    final FrameSink sink = new FrameSink()
    {
        public boolean send(final DirectBuffer buffer, final int offset, final int length)
        {
            final int ip = offset + EthernetHeader.HEADER_LENGTH;
            sent.add(new long[] {EthernetHeader.getMac(buffer, offset), buffer.getByte(ip + 8) & 0xFF,
                headerVerifies(buffer, ip) ? 1 : 0});
            return true;
        }
    };

    private RouteForwarder route(final SpreadPolicy policy, final int hops, final boolean rebalance)
    {
        final RouteForwarder route = new RouteForwarder(PREFIX, 16, policy, 1_000_000L, rebalance, 1024, 99);
        for (int i = 0; i < hops; i++)
        {
            final int hop = route.group().add(0xC6120100 + 51 + i);
            route.nextHopHealth(hop, true, HOP_MAC + i);
        }
        return route;
    }

    private DropReason out(final RouteForwarder route, final int sport, final int flags, final long now)
    {
        final int length = TestFrames.tcp(frame, LB_MAC, CLIENT_MAC, CLIENT, SERVER, sport, 80, flags, 10);
        FrameClassifier.classify(frame, 0, length, parsed);
        final DropReason dropped = route.forward(frame, 0, length, parsed, LB_MAC, now);
        if (dropped == null)
        {
            sink.forward(frame, 0, length);
            route.sent(length);
        }
        return dropped;
    }

    private DropReason back(final RouteForwarder route, final int sport, final int flags, final long now, final int hop)
    {
        final int length = TestFrames.tcp(frame, LB_MAC, HOP_MAC + hop, SERVER, CLIENT, 80, sport, flags, 10);
        FrameClassifier.classify(frame, 0, length, parsed);
        final DropReason dropped = route.reverse(frame, 0, length, parsed, LB_MAC, now);
        if (dropped == null)
        {
            sink.forward(frame, 0, length);
        }
        return dropped;
    }

    private int lastHop()
    {
        return (int)(sent.get(sent.size() - 1)[0] - HOP_MAC);
    }

    @Test
    void perPacketSpreadsOneFlowEvenlyAndRoutesLikeARouter()
    {
        final RouteForwarder route = route(SpreadPolicy.PACKET, 3, false);
        assertNull(out(route, 40000, SYN, 1));
        for (int i = 0; i < 999; i++)
        {
            assertNull(out(route, 40000, ACK, 2 + i));
        }
        // The close, both ways, and the last ACKs after it keep the turn too.
        assertNull(out(route, 40000, FIN | ACK, 2_000));
        assertNull(back(route, 40000, FIN | ACK, 2_001, 0));
        assertEquals(CLIENT_MAC, sent.remove(sent.size() - 1)[0], "the server's FIN to the client");
        assertNull(out(route, 40000, ACK, 2_002));
        assertNull(out(route, 40000, ACK, 2_003));
        final NextHopGroup group = route.group();
        final long a = group.packets(0);
        final long b = group.packets(1);
        final long c = group.packets(2);
        assertEquals(1003, a + b + c);
        assertTrue(Math.max(a, Math.max(b, c)) - Math.min(a, Math.min(b, c)) <= 1, a + "/" + b + "/" + c);
        for (final long[] f : sent)
        {
            assertEquals(63, f[1], "TTL decremented");
            assertEquals(1, f[2], "IPv4 header checksum updated for the TTL");
            assertTrue(f[0] >= HOP_MAC && f[0] < HOP_MAC + 3, "to a next hop's MAC");
        }
    }

    private static boolean headerVerifies(final DirectBuffer buffer, final int ip)
    {
        int sum = 0;
        for (int i = 0; i < 20; i += 2)
        {
            sum += buffer.getShort(ip + i, BIG_ENDIAN) & 0xFFFF;
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return sum == 0xFFFF;
    }

    @Test
    void everyFlowPolicyKeepsAFlowOnOneHop()
    {
        for (final SpreadPolicy policy : new SpreadPolicy[] {SpreadPolicy.FLOW_RANDOM, SpreadPolicy.FLOW_HASH,
            SpreadPolicy.LEAST_FLOWS, SpreadPolicy.FLOWLET})
        {
            final RouteForwarder route = route(policy, 3, false);
            final Map<Integer, Set<Integer>> hopsOfFlow = new HashMap<>();
            long now = 0;
            for (int round = 0; round < 50; round++)
            {
                for (int flow = 0; flow < 12; flow++)
                {
                    // Packets 10 us apart: within the flowlet gap (1 ms).
                    now += 10_000;
                    assertNull(out(route, 41000 + flow, round == 0 ? SYN : ACK, now));
                    hopsOfFlow.computeIfAbsent(flow, k -> new HashSet<>()).add(lastHop());
                }
            }
            final Set<Integer> used = new HashSet<>();
            for (final Set<Integer> hops : hopsOfFlow.values())
            {
                assertEquals(1, hops.size(), policy + ": one hop per flow " + hopsOfFlow);
                used.addAll(hops);
            }
            assertTrue(used.size() > 1, policy + " spreads the flows: " + hopsOfFlow);
            assertEquals(12, route.paths().openFlows());
        }
    }

    @Test
    void leastFlowsKeepsCountsWithinOneAndRebalancingMovesExactlyOneFlow()
    {
        final RouteForwarder route = route(SpreadPolicy.LEAST_FLOWS, 2, true);
        final NextHopGroup group = route.group();
        final Map<Integer, Integer> hopOf = new HashMap<>();
        for (int flow = 0; flow < 4; flow++)
        {
            assertNull(out(route, 42000 + flow, SYN, flow));
            hopOf.put(flow, lastHop());
            assertTrue(Math.abs(group.activeFlows(0) - group.activeFlows(1)) <= 1);
        }
        assertNull(back(route, 42000, SYN | ACK, 10, hopOf.get(0)));
        assertEquals(CLIENT_MAC, sent.get(sent.size() - 1)[0], "the reply goes to the client");
        // End both flows on hop h (FIN both ways): counts 0 and 2 -> one flow moves to h.
        final int h = hopOf.get(0);
        int ended = 0;
        for (int flow = 0; flow < 4; flow++)
        {
            if (hopOf.get(flow) == h)
            {
                assertNull(out(route, 42000 + flow, FIN | ACK, 20));
                assertNull(back(route, 42000 + flow, FIN | ACK, 21, h));
                ended++;
            }
        }
        assertEquals(2, ended);
        assertEquals(1, route.paths().moves());
        assertEquals(1, group.activeFlows(0));
        assertEquals(1, group.activeFlows(1));
        int movedTo = 0;
        for (int flow = 0; flow < 4; flow++)
        {
            if (hopOf.get(flow) != h)
            {
                assertNull(out(route, 42000 + flow, ACK, 30));
                if (lastHop() == h)
                {
                    movedTo++;
                }
            }
        }
        assertEquals(1, movedTo, "the moved flow's packets now take the emptied hop");
        // The closed flows' last ACKs still pass, without touching the records other flows hold now.
        for (int flow = 0; flow < 4; flow++)
        {
            if (hopOf.get(flow) == h)
            {
                assertNull(out(route, 42000 + flow, ACK, 40));
                assertNull(back(route, 42000 + flow, ACK, 41, h));
            }
        }
        assertEquals(2, route.paths().openFlows());
        assertEquals(1, group.activeFlows(0));
        assertEquals(1, group.activeFlows(1));
    }

    @Test
    void aDeadHopsFlowsMoveAndWithFlowHashOnlyThoseChangePath()
    {
        final RouteForwarder route = route(SpreadPolicy.FLOW_HASH, 4, false);
        final int flows = 200;
        final int[] before = new int[flows];
        for (int flow = 0; flow < flows; flow++)
        {
            assertNull(out(route, 43000 + flow, SYN, flow));
            before[flow] = lastHop();
        }
        route.nextHopHealth(1, false, 0);
        int changed = 0;
        int onDead = 0;
        for (int flow = 0; flow < flows; flow++)
        {
            assertNull(out(route, 43000 + flow, ACK, 1000 + flow));
            final int now = lastHop();
            assertTrue(now != 1);
            if (before[flow] == 1)
            {
                onDead++;
            }
            if (now != before[flow])
            {
                changed++;
                assertEquals(1, before[flow], "only the dead hop's flows change path");
            }
        }
        assertEquals(onDead, changed);
        assertTrue(onDead > 0);
    }

    @Test
    void noHopTtlOneAndUnknownReturnsAreCounted()
    {
        final RouteForwarder route = route(SpreadPolicy.FLOW_RANDOM, 1, false);
        assertEquals(DropReason.NO_FLOW, back(route, 44000, ACK, 1, 0));
        route.nextHopHealth(0, false, 0);
        assertEquals(DropReason.NO_NEXT_HOP, out(route, 44000, SYN, 2));
        route.nextHopHealth(0, true, HOP_MAC);
        final int length = TestFrames.tcp(frame, LB_MAC, CLIENT_MAC, CLIENT, SERVER, 44001, 80, SYN, 0);
        frame.putByte(EthernetHeader.HEADER_LENGTH + 8, (byte)1);
        frame.putShort(EthernetHeader.HEADER_LENGTH + 10, (short)0, BIG_ENDIAN);
        frame.putShort(EthernetHeader.HEADER_LENGTH + 10, (short)Checksums.ipv4HeaderChecksum(frame, EthernetHeader.HEADER_LENGTH, 20), BIG_ENDIAN);
        FrameClassifier.classify(frame, 0, length, parsed);
        assertEquals(DropReason.TTL_EXCEEDED, route.forward(frame, 0, length, parsed, LB_MAC, 3));
        assertTrue(route.matches(SERVER));
        assertTrue(!route.matches(CLIENT));
    }

    @Test
    void idleFlowsExpireAndFreeTheirPaths()
    {
        final RouteForwarder route = route(SpreadPolicy.LEAST_FLOWS, 2, false);
        route.flows().setTimeouts(1_000, 1_000, 1_000, 1_000);
        for (int flow = 0; flow < 10; flow++)
        {
            assertNull(out(route, 45000 + flow, SYN, 0));
        }
        assertEquals(10, route.paths().openFlows());
        assertEquals(20, route.flows().size());
        route.expire(1_000_000, route.flows().slotCount());
        assertEquals(0, route.paths().openFlows());
        assertEquals(0, route.flows().size());
        assertEquals(0, route.group().activeFlows(0) + route.group().activeFlows(1));
    }

    @Test
    void aClosedFlowsLastSegmentsKeepItsHop()
    {
        for (final SpreadPolicy policy : new SpreadPolicy[] {SpreadPolicy.FLOW_RANDOM, SpreadPolicy.LEAST_FLOWS,
            SpreadPolicy.FLOW_HASH, SpreadPolicy.FLOWLET})
        {
            final RouteForwarder route = route(policy, 4, false);
            for (int flow = 0; flow < 16; flow++)
            {
                final int sport = 43000 + flow;
                assertNull(out(route, sport, SYN, 1));
                final int hop = lastHop();
                assertNull(out(route, sport, FIN | ACK, 2));
                assertNull(back(route, sport, FIN | ACK, 3, hop));
                sent.remove(sent.size() - 1);
                assertNull(out(route, sport, ACK, 4));
                assertEquals(hop, lastHop(), policy + ": the final ACK after the close takes the flow's hop");
            }
        }
    }
}
