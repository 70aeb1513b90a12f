package lb.dataplane.pipeline;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import lb.dataplane.checksum.ReferenceChecksum;
import lb.dataplane.flow.FlowTable;
import lb.dataplane.flow.FullPolicy;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.Icmpv6Header;
import lb.dataplane.packet.TcpHeader;
import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.SchedulerKind;
import lb.dataplane.spread.NextHopGroup;
import lb.dataplane.spread.RouteForwarder;
import lb.dataplane.spread.SpreadPolicy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static lb.dataplane.pipeline.Ipv6PipelineTest.CLIENT_LOW;
import static lb.dataplane.pipeline.Ipv6PipelineTest.CLIENT_NET;
import static lb.dataplane.pipeline.Ipv6PipelineTest.LB_LOW;
import static lb.dataplane.pipeline.Ipv6PipelineTest.SERVER_NET;
import static lb.dataplane.pipeline.Ipv6PipelineTest.VIP_LOW;
import static lb.dataplane.pipeline.Ipv6PipelineTest.assertL4ChecksumValid;
import static lb.dataplane.pipeline.Ipv6PipelineTest.assertUnchangedExcept;
import static lb.dataplane.pipeline.Ipv6PipelineTest.view;
import static lb.dataplane.pipeline.PacketPipelineTest.CLIENT_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.CLIENT_SIDE_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.GATEWAY_IP;
import static lb.dataplane.pipeline.PacketPipelineTest.LB_CLIENT_IP;
import static lb.dataplane.pipeline.PacketPipelineTest.SERVER_SIDE_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.capture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPv6 route services through the whole pipeline: a client's TCP, UDP and echo to a far IPv6 prefix leave toward
 * one of the route's next hops (aliases, as IPv6 backends are) with only the MACs and the hop limit changed, the
 * replies from any hop go back to the client's MAC; every policy picks among the IPv6 hops; the prefix match's
 * edges; lb's own addresses and VIP6s are never routed; no allocation.
 */
class Route6PipelineTest extends PipelineFixture
{
    /** 2001:2:0:3::/64, the far network behind the next hops. */
    static final long FAR_NET = 0x2001_0002_0000_0003L;
    static final long FAR_LOW = 0x5;
    static final long HOP_MAC = 0x02_00_00_00_06_00L;
    /** The next hops' addresses on the server LAN: 2001:2:0:1::51, ::52, ... */
    static final long HOP_LOW = 0x51;

    final Ipv6AliasTable aliases = new Ipv6AliasTable();
    final FlowTable flows6 = FlowTable.ipv6(1024, FullPolicy.EVICT_STALEST, null);
    final BackendStatsTable stats = new BackendStatsTable();
    final int clientIp6 = alias(CLIENT_NET, LB_LOW);
    final int gatewayIp6 = alias(SERVER_NET, LB_LOW);
    long now = 1_000_000_000L;

    private int alias(final long high, final long low)
    {
        final int alias = Ipv6AliasTable.preferredAlias(high, low);
        if (aliases.alias(high, low) == Ipv6AliasTable.NONE)
        {
            assertTrue(aliases.put(alias, high, low));
        }
        return alias;
    }

    /** A route over {@code hops} usable next hops, in a pipeline that sends into the fixture's lists. */
    private RouteForwarder route(final long prefixHigh, final long prefixLow, final int length, final SpreadPolicy policy,
        final int hops)
    {
        final RouteForwarder route = RouteForwarder.ipv6(prefixHigh, prefixLow, length, policy, 1_000_000L, false, 1024, 7);
        for (int i = 0; i < hops; i++)
        {
            final int hop = route.group().add(alias(SERVER_NET, HOP_LOW + i));
            route.nextHopHealth(hop, true, HOP_MAC + i);
        }
        return route;
    }

    private PacketPipeline pipeline(final RouteForwarder... routes)
    {
        return new PacketPipeline(services, flows, counters, stats, capture(toClient), capture(toServer), capture(toServer),
            CLIENT_SIDE_MAC, SERVER_SIDE_MAC, LB_CLIENT_IP, GATEWAY_IP).ipv6(flows6, aliases, clientIp6, gatewayIp6)
            .routes(routes);
    }

    private int clientToFar(final int protocol, final int sport, final int flags, final int payload)
    {
        return TestFrames.ipv6L4(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, FAR_NET, FAR_LOW, protocol, sport,
            80, flags, payload);
    }

    private int farToClient(final int hop, final int protocol, final int cport, final int flags, final int payload)
    {
        return TestFrames.ipv6L4(frame, SERVER_SIDE_MAC, HOP_MAC + hop, FAR_NET, FAR_LOW, CLIENT_NET, CLIENT_LOW, protocol, 80,
            cport, flags, payload);
    }

    private byte[] bytes(final int length)
    {
        final byte[] copy = new byte[length];
        frame.getBytes(0, copy);
        return copy;
    }

    private static int hopOf(final byte[] sent)
    {
        return (int)(EthernetHeader.getMac(view(sent), 0) - HOP_MAC);
    }

    @Test
    void tcpAndUdpBothWaysChangeOnlyTheMacsAndTheHopLimit()
    {
        final RouteForwarder route = route(FAR_NET, 0, 64, SpreadPolicy.FLOW_HASH, 2);
        final PacketPipeline pipeline = pipeline(route);
        for (final int protocol : new int[] {6, 17})
        {
            toServer.clear();
            toClient.clear();
            final int length = clientToFar(protocol, 40000, TcpHeader.SYN, 30);
            final byte[] before = bytes(length);
            pipeline.onClientFrame(frame, 0, length, 0, now);
            assertEquals(1, toServer.size());
            final byte[] out = toServer.get(0);
            final int hop = hopOf(out);
            assertTrue(hop == 0 || hop == 1, "to a next hop's MAC");
            assertEquals(SERVER_SIDE_MAC, EthernetHeader.getMac(view(out), 6));
            assertEquals(63, out[21] & 0xFF, "hop limit decremented");
            assertUnchangedExcept(before, out, 0, 12, 21, 22);
            assertL4ChecksumValid(out);

            final int replyLength = farToClient(1 - hop, protocol, 40000, TcpHeader.SYN | TcpHeader.ACK, 100);
            final byte[] reply = bytes(replyLength);
            pipeline.onServerFrame(frame, 0, replyLength, 0, now);
            assertEquals(1, toClient.size(), "a reply from any next hop");
            final byte[] back = toClient.get(0);
            assertEquals(CLIENT_MAC, EthernetHeader.getMac(view(back), 0));
            assertEquals(CLIENT_SIDE_MAC, EthernetHeader.getMac(view(back), 6));
            assertEquals(63, back[21] & 0xFF);
            assertUnchangedExcept(reply, back, 0, 12, 21, 22);
            assertL4ChecksumValid(back);
        }
        assertEquals(4, route.flows().size(), "two flows, two entries each, in the route's own IPv6 table");
        assertTrue(route.flows().isIpv6());
        assertEquals(0, flows6.size(), "none in lb's IPv6 NAT table");
        assertEquals(0, counters.totalDrops());
        assertEquals(4, counters.txFrames());
    }

    @Test
    void hopLimitOneIsDroppedAsTtlExceededAndAnsweredWithTimeExceededFromLbsAddressOnThatSide()
    {
        final PacketPipeline pipeline = pipeline(route(FAR_NET, 0, 64, SpreadPolicy.LEAST_FLOWS, 2));
        pipeline.onClientFrame(frame, 0, clientToFar(17, 40001, 0, 10), 0, now);
        assertEquals(1, toServer.size(), "the flow's first datagram, hop limit 64");
        for (final int hopLimit : new int[] {1, 0})
        {
            final int length = clientToFar(17, 40001, 0, 10);
            frame.putByte(21, (byte)hopLimit);
            pipeline.onClientFrame(frame, 0, length, 0, now);
            final int reply = farToClient(0, 17, 40001, 0, 10);
            frame.putByte(21, (byte)hopLimit);
            pipeline.onServerFrame(frame, 0, reply, 0, now);
        }
        assertEquals(4, counters.drops(DropReason.TTL_EXCEEDED), "both ways, hop limit 1 and 0");
        assertEquals(4, counters.icmpTimeExceededSent.get());
        assertEquals(3, toServer.size(), "the datagram, then a time exceeded to the far side's sender each time");
        assertEquals(2, toClient.size(), "a time exceeded to the client each time");
        assertTimeExceeded(toClient.get(0), CLIENT_NET, LB_LOW, CLIENT_NET, CLIENT_LOW);
        assertTimeExceeded(toServer.get(1), SERVER_NET, LB_LOW, FAR_NET, FAR_LOW);
    }

    /** An ICMPv6 time exceeded (hop limit, code 0) from lb's address on one side to the expired packet's sender. */
    private static void assertTimeExceeded(final byte[] sent, final long fromHigh, final long fromLow, final long toHigh,
        final long toLow)
    {
        final UnsafeBuffer b = new UnsafeBuffer(sent);
        assertEquals(0x86DD, b.getShort(12, BIG_ENDIAN) & 0xFFFF);
        assertEquals(58, sent[20] & 0xFF, "ICMPv6");
        assertEquals(fromHigh, b.getLong(22, BIG_ENDIAN));
        assertEquals(fromLow, b.getLong(30, BIG_ENDIAN));
        assertEquals(toHigh, b.getLong(38, BIG_ENDIAN));
        assertEquals(toLow, b.getLong(46, BIG_ENDIAN));
        assertEquals(Icmpv6Header.TYPE_TIME_EXCEEDED, sent[54] & 0xFF);
        assertEquals(0, sent[55]);
        assertEquals(ReferenceChecksum.ipv6L4Checksum(sent, 14, 54, 58), b.getShort(56, BIG_ENDIAN) & 0xFFFF,
            "the ICMPv6 checksum, by the reference");
    }

    /** For each policy: 40 flows over two IPv6 hops, every flow's packets on one hop (but packet's), both hops used. */
    @Test
    void everyPolicyPicksAmongTheIpv6NextHops()
    {
        for (final SpreadPolicy policy : SpreadPolicy.values())
        {
            toServer.clear();
            final RouteForwarder route = route(FAR_NET, 0, 64, policy, 2);
            final PacketPipeline pipeline = pipeline(route);
            final Map<Integer, Set<Integer>> hopsOfFlow = new HashMap<>();
            for (int round = 0; round < 3; round++)
            {
                for (int flow = 0; flow < 40; flow++)
                {
                    pipeline.onClientFrame(frame, 0, clientToFar(6, 41000 + flow, round == 0 ? TcpHeader.SYN : TcpHeader.ACK, 0),
                        0, now += 1_000);
                    hopsOfFlow.computeIfAbsent(flow, f -> new HashSet<>()).add(hopOf(toServer.get(toServer.size() - 1)));
                }
            }
            assertEquals(120, toServer.size(), policy + ": every packet forwarded");
            final NextHopGroup group = route.group();
            assertTrue(group.packets(0) > 0 && group.packets(1) > 0, policy + ": both hops carry packets");
            assertEquals(120, group.packets(0) + group.packets(1));
            if (policy == SpreadPolicy.PACKET)
            {
                assertEquals(60, group.packets(0), "strict round robin per packet");
                continue;
            }
            for (final Set<Integer> hops : hopsOfFlow.values())
            {
                assertEquals(1, hops.size(), policy + ": a flow keeps its hop");
            }
            assertEquals(40, group.activeFlows(0) + group.activeFlows(1), policy + ": 40 flows tracked");
            if (policy == SpreadPolicy.LEAST_FLOWS)
            {
                assertEquals(20, group.activeFlows(0), "least-flows puts them 20/20");
            }
        }
    }

    @Test
    void aHopThatGoesDownTakesItsFlowsToTheOther()
    {
        final RouteForwarder route = route(FAR_NET, 0, 64, SpreadPolicy.LEAST_FLOWS, 2);
        final PacketPipeline pipeline = pipeline(route);
        for (int flow = 0; flow < 10; flow++)
        {
            pipeline.onClientFrame(frame, 0, clientToFar(6, 42000 + flow, TcpHeader.SYN, 0), 0, now);
        }
        assertEquals(5, route.group().activeFlows(1));
        route.nextHopHealth(1, false, 0);
        toServer.clear();
        for (int flow = 0; flow < 10; flow++)
        {
            pipeline.onClientFrame(frame, 0, clientToFar(6, 42000 + flow, TcpHeader.ACK, 10), 0, now);
        }
        assertEquals(10, toServer.size());
        for (final byte[] out : toServer)
        {
            assertEquals(0, hopOf(out), "every flow on the hop still up");
        }
        assertEquals(10, route.group().activeFlows(0));
    }

    @Test
    void echoGoesThroughTheRouteByAddressAndItsReplyFindsTheClient()
    {
        final PacketPipeline pipeline = pipeline(route(FAR_NET, 0, 64, SpreadPolicy.FLOW_HASH, 2));
        final UnsafeBuffer data = new UnsafeBuffer("ping6 far".getBytes());
        final int length = Icmpv6Header.writeEchoFrame(frame, 0, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, FAR_NET,
            FAR_LOW, Icmpv6Header.TYPE_ECHO_REQUEST, 0x77, 1, data, 0, data.capacity());
        final byte[] request = bytes(length);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(1, toServer.size());
        final byte[] out = toServer.get(0);
        final int hop = hopOf(out);
        assertTrue(hop == 0 || hop == 1);
        assertUnchangedExcept(request, out, 0, 12, 21, 22);
        assertEquals(ReferenceChecksum.ipv6L4Checksum(out, 14, 54, 58), view(out).getShort(56, BIG_ENDIAN) & 0xFFFF);
        pipeline.onClientFrame(frame, 0, Icmpv6Header.writeEchoFrame(frame, 0, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET,
            CLIENT_LOW, FAR_NET, FAR_LOW, Icmpv6Header.TYPE_ECHO_REQUEST, 0x77, 2, data, 0, data.capacity()), 0, now);
        assertEquals(hop, hopOf(toServer.get(1)), "one conversation, one hop");

        final int replyLength = Icmpv6Header.writeEchoFrame(frame, 0, SERVER_SIDE_MAC, HOP_MAC + 1, FAR_NET, FAR_LOW,
            CLIENT_NET, CLIENT_LOW, Icmpv6Header.TYPE_ECHO_REPLY, 0x77, 1, data, 0, data.capacity());
        pipeline.onServerFrame(frame, 0, replyLength, 0, now);
        assertEquals(1, toClient.size());
        assertEquals(CLIENT_MAC, EthernetHeader.getMac(view(toClient.get(0)), 0));
        assertEquals(63, toClient.get(0)[21] & 0xFF);
        assertEquals(0, counters.icmpEchoReplies.get(), "lb answered none itself");

        // A reply to a client the route never saw has no MAC to go to.
        pipeline.onServerFrame(frame, 0, Icmpv6Header.writeEchoFrame(frame, 0, SERVER_SIDE_MAC, HOP_MAC, FAR_NET, FAR_LOW,
            CLIENT_NET, CLIENT_LOW + 1, Icmpv6Header.TYPE_ECHO_REPLY, 0x77, 1, data, 0, data.capacity()), 0, now);
        assertEquals(1, counters.drops(DropReason.NO_FLOW));
    }

    @Test
    void lbsOwnAddressesAndVip6sInsideAPrefixAreNeverRouted()
    {
        // A route over all of 2001:2::/48: the VIP6, client-ip6 and gateway-ip6 are inside it (the config refuses
        // that; this is the dataplane's own guard).
        final BackendPool pool = new BackendPool(16);
        pool.setMac(pool.add(alias(SERVER_NET, 0x11), 0, 1), 0x02_00_00_00_02_11L);
        final int vip = alias(CLIENT_NET, VIP_LOW);
        services.add(new Service(0, "web6", vip, 80, 6, pool, SchedulerKind.ROUND_ROBIN.create(pool)));
        final RouteForwarder route = route(0x2001_0002_0000_0000L, 0, 48, SpreadPolicy.FLOW_HASH, 2);
        final PacketPipeline pipeline = pipeline(route);

        pipeline.onClientFrame(frame, 0, TestFrames.ipv6L4(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, CLIENT_NET,
            VIP_LOW, 6, 43000, 80, TcpHeader.SYN, 0), 0, now);
        assertEquals(1, toServer.size());
        assertEquals(0x02_00_00_00_02_11L, EthernetHeader.getMac(view(toServer.get(0)), 0), "the VIP6's backend, not a hop");
        pipeline.onClientFrame(frame, 0, TestFrames.ipv6L4(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, CLIENT_NET,
            LB_LOW, 6, 43001, 80, TcpHeader.SYN, 0), 0, now);
        assertEquals(1, counters.drops(DropReason.NO_SERVICE), "client-ip6 is lb's");
        final int echo = Icmpv6Header.writeEchoFrame(frame, 0, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, CLIENT_NET,
            LB_LOW, Icmpv6Header.TYPE_ECHO_REQUEST, 1, 1, frame, 100, 8);
        pipeline.onClientFrame(frame, 0, echo, 0, now);
        assertEquals(1, counters.icmpEchoReplies.get(), "lb answers its own ping");
        assertEquals(1, toServer.size());
        assertEquals(0, route.group().packets(0) + route.group().packets(1));
    }

    /** Prefix edges: /0 holds everything, /128 one address, /64 and /48 their networks, /65 splits the low half. */
    @Test
    void prefixMatchingEdges()
    {
        final long high = 0x2001_0002_0000_0003L;
        final RouteForwarder all = route(0, 0, 0, SpreadPolicy.FLOW_HASH, 0);
        assertTrue(all.matches6(high, 5) && all.matches6(-1L, -1L) && all.matches6(0, 0));
        assertFalse(all.matches(0xC613_0005), "an IPv6 route never holds an IPv4 address");
        final RouteForwarder one = route(high, 5, 128, SpreadPolicy.FLOW_HASH, 0);
        assertTrue(one.matches6(high, 5));
        assertFalse(one.matches6(high, 4) || one.matches6(high, 5 | 1L << 63) || one.matches6(high + 1, 5));
        final RouteForwarder net64 = route(high, 0, 64, SpreadPolicy.FLOW_HASH, 0);
        assertTrue(net64.matches6(high, 0) && net64.matches6(high, -1L));
        assertFalse(net64.matches6(high + 1, 0) || net64.matches6(high - 1, -1L));
        final RouteForwarder net48 = route(0x2001_0002_0000_0000L, 0, 48, SpreadPolicy.FLOW_HASH, 0);
        assertTrue(net48.matches6(high, 5) && net48.matches6(0x2001_0002_0000_FFFFL, -1L));
        assertFalse(net48.matches6(0x2001_0003_0000_0000L, 0) || net48.matches6(0x2001_0002_0001_0000L, 0));
        final RouteForwarder net65 = route(high, 1L << 63, 65, SpreadPolicy.FLOW_HASH, 0);
        assertTrue(net65.matches6(high, -1L));
        assertFalse(net65.matches6(high, 1L << 62));
        // Host bits given in the prefix are masked off, as a router's table does.
        assertTrue(route(high, 0x1234, 64, SpreadPolicy.FLOW_HASH, 0).matches6(high, 9));
        final RouteForwarder v4 = new RouteForwarder(0, 0, SpreadPolicy.FLOW_HASH, 1, false, 16, 1);
        assertFalse(v4.matches6(high, 5), "an IPv4 route, even 0.0.0.0/0, never holds an IPv6 address");
        assertThrows(IllegalArgumentException.class, () -> RouteForwarder.ipv6(0, 0, 129, SpreadPolicy.PACKET, 1, false, 16, 1));
    }

    /**
     * 100,000 routed IPv6 frames both ways, valid and mutated (cut short, bytes flipped), with random TCP flags: every
     * frame is accounted for, nothing throws, and once every flow idled out the route's table and hop counts are empty.
     */
    @Test
    void mutatedRoutedTrafficIsAccountedForAndEveryFlowEnds()
    {
        final RouteForwarder route = route(FAR_NET, 0, 64, SpreadPolicy.LEAST_FLOWS, 2);
        final PacketPipeline pipeline = pipeline(route);
        final Random random = new Random(13);
        for (int i = 0; i < 100_000; i++)
        {
            final boolean client = random.nextBoolean();
            final int protocol = random.nextInt(4) == 0 ? 17 : 6;
            final int port = 46000 + random.nextInt(64);
            int length = random.nextInt(8) == 0 ?
                Icmpv6Header.writeEchoFrame(frame, 0, client ? CLIENT_SIDE_MAC : SERVER_SIDE_MAC, client ? CLIENT_MAC : HOP_MAC,
                    client ? CLIENT_NET : FAR_NET, client ? CLIENT_LOW : FAR_LOW, client ? FAR_NET : CLIENT_NET,
                    client ? FAR_LOW : CLIENT_LOW, client ? Icmpv6Header.TYPE_ECHO_REQUEST : Icmpv6Header.TYPE_ECHO_REPLY, 1, i,
                    frame, 300, random.nextInt(20)) :
                client ? clientToFar(protocol, port, random.nextInt(64), random.nextInt(40)) :
                    farToClient(random.nextInt(2), protocol, port, random.nextInt(64), random.nextInt(40));
            length = TestFrames.mutate(frame, length, random);
            now += 1_000;
            if (client)
            {
                pipeline.onClientFrame(frame, 0, length, 0, now);
            }
            else
            {
                pipeline.onServerFrame(frame, 0, length, 0, now);
            }
            if ((i & 1023) == 0)
            {
                pipeline.expire(now, 256);
            }
        }
        final String figures = "tx " + counters.txFrames() + ", drops " + counters.framesDropped();
        assertEquals(100_000, counters.rxFrames());
        assertTrue(counters.txFrames() > 30_000 && route.group().packets(0) > 0 && route.group().packets(1) > 0, figures);
        assertEquals(toClient.size() + toServer.size(), counters.txFrames() + counters.answered() + counters.madeUp(), figures);
        assertEquals(0, counters.unaccounted(), figures);

        now += 400_000_000_000L;
        for (int pass = 0; pass < 4 && route.flows().size() > 0; pass++)
        {
            pipeline.expire(now, route.flows().slotCount());
        }
        assertEquals(0, route.flows().size(), "route flows left after every flow's idle timeout");
        assertEquals(0, route.group().activeFlows(0) + route.group().activeFlows(1));
        assertEquals(0, route.paths().openFlows());
    }

    /** TCP both ways, UDP and echo through an IPv6 route, 40,000 frames after warm-up: under 1 KiB allocated. */
    @Test
    void theRoutedIpv6PathAllocatesNothing()
    {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final PacketPipeline quiet = new PacketPipeline(services, flows, counters, stats, (b, o, l) -> true,
            (b, o, l) -> true, (b, o, l) -> true, CLIENT_SIDE_MAC, SERVER_SIDE_MAC, LB_CLIENT_IP, GATEWAY_IP)
            .ipv6(flows6, aliases, clientIp6, gatewayIp6).routes(new RouteForwarder[] {
                route(0x2001_0002_0000_0009L, 0, 64, SpreadPolicy.PACKET, 2), route(FAR_NET, 0, 64, SpreadPolicy.LEAST_FLOWS, 2)});
        final byte[][] templates = {
            bytes(clientToFar(6, 44000, TcpHeader.SYN, 10)),
            bytes(farToClient(0, 6, 44000, TcpHeader.SYN | TcpHeader.ACK, 10)),
            bytes(clientToFar(6, 44000, TcpHeader.ACK, 100)),
            bytes(clientToFar(17, 44001, 0, 20)),
            bytes(Icmpv6Header.writeEchoFrame(frame, 0, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, FAR_NET, FAR_LOW,
                Icmpv6Header.TYPE_ECHO_REQUEST, 1, 1, frame, 100, 16))};
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[2048]);
        long allocated = 0;
        for (int round = 0; round < 2; round++)
        {
            final long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 40_000; i++)
            {
                final int k = i % templates.length;
                buffer.putBytes(0, templates[k]);
                now += 1_000;
                if (k == 1)
                {
                    quiet.onServerFrame(buffer, 0, templates[k].length, 0, now);
                }
                else
                {
                    quiet.onClientFrame(buffer, 0, templates[k].length, 0, now);
                }
            }
            quiet.expire(now, 1024);
            allocated = threads.getCurrentThreadAllocatedBytes() - before;
        }
        assertEquals(80_000, counters.txFrames(), "every frame routed: " + counters.totalDrops() + " drops");
        assertTrue(allocated < 1024, "bytes allocated by 40,000 routed IPv6 frames after warm-up: " + allocated);
    }

    @Test
    void withoutIpv6RoutesIpv6FramesToAFarNetworkAreNotForUs()
    {
        final PacketPipeline pipeline = pipeline();
        pipeline.onClientFrame(frame, 0, clientToFar(6, 45000, TcpHeader.SYN, 0), 0, now);
        assertEquals(1, counters.drops(DropReason.IPV6_NOT_FOR_US));
        assertEquals(0, toServer.size());
    }
}
