package lb.dataplane.pipeline;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import lb.dataplane.checksum.Checksums;
import lb.dataplane.checksum.ReferenceChecksum;
import lb.dataplane.flow.FlowTable;
import lb.dataplane.flow.FullPolicy;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.Icmpv6Header;
import lb.dataplane.packet.Ipv6Header;
import lb.dataplane.packet.NeighborDiscovery;
import lb.dataplane.packet.TcpCheckFrames;
import lb.dataplane.packet.TcpHeader;
import lb.dataplane.rewrite.Ip6Ip6Encap;
import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.SchedulerKind;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static lb.dataplane.pipeline.PacketPipelineTest.BACKEND_MACS;
import static lb.dataplane.pipeline.PacketPipelineTest.CLIENT_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.CLIENT_SIDE_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.GATEWAY_IP;
import static lb.dataplane.pipeline.PacketPipelineTest.LB_CLIENT_IP;
import static lb.dataplane.pipeline.PacketPipelineTest.SERVER_SIDE_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.capture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Golden tests of the IPv6 path: NAT66 both ways, DSR, IPv6 in IPv6 (with packet too big), neighbour discovery and echo answers, every byte of what lb
 * sends checked and every checksum verified by the reference implementation; drops by name; the frame accounting
 * over a mutated mix of both families; no allocation.
 */
class Ipv6PipelineTest extends PipelineFixture
{
    static final long CLIENT_NET = 0x2001_0002_0000_0000L;   // 2001:2::/64
    static final long SERVER_NET = 0x2001_0002_0000_0001L;   // 2001:2:0:1::/64
    static final long CLIENT_LOW = 0x11;
    static final long LB_LOW = 0x1;
    static final long VIP_LOW = 0x100;
    static final long[] BACKEND_LOWS = {0x11, 0x12, 0x13};

    final Ipv6AliasTable aliases = new Ipv6AliasTable();
    final FlowTable flows6 = FlowTable.ipv6(1024, FullPolicy.EVICT_STALEST, null);
    final List<byte[]> toControl = new ArrayList<>();
    final BackendStatsTable stats = new BackendStatsTable();
    final BackendPool pool = new BackendPool(16);
    final PacketPipeline pipeline;
    final int vip = alias(CLIENT_NET, VIP_LOW);
    final int dsrVip = alias(CLIENT_NET, VIP_LOW + 1);
    final int ipipVip = alias(CLIENT_NET, VIP_LOW + 2);
    final int clientIp6 = alias(CLIENT_NET, LB_LOW);
    final int gatewayIp6 = alias(SERVER_NET, LB_LOW);
    long now = 1_000_000_000L;

    Ipv6PipelineTest()
    {
        for (int i = 0; i < 3; i++)
        {
            pool.setMac(pool.add(alias(SERVER_NET, BACKEND_LOWS[i]), 0, 1), BACKEND_MACS[i]);
        }
        services.add(new Service(0, "web6", vip, 80, 6, pool, SchedulerKind.ROUND_ROBIN.create(pool)));
        final BackendPool udpPool = new BackendPool(16);
        udpPool.setMac(udpPool.add(alias(SERVER_NET, BACKEND_LOWS[0]), 5353, 1), BACKEND_MACS[0]);
        services.add(new Service(1, "dns6", vip, 53, 17, udpPool, SchedulerKind.ROUND_ROBIN.create(udpPool)));
        final BackendPool dsrPool = new BackendPool(16);
        dsrPool.setMac(dsrPool.add(alias(SERVER_NET, BACKEND_LOWS[1]), 0, 1), BACKEND_MACS[1]);
        services.add(new Service(2, "dsr6", dsrVip, 80, 6, dsrPool, SchedulerKind.MAGLEV.create(dsrPool), ForwardingMode.DSR));
        final BackendPool ipipPool = new BackendPool(16);
        ipipPool.setMac(ipipPool.add(alias(SERVER_NET, BACKEND_LOWS[2]), 0, 1), BACKEND_MACS[2]);
        services.add(new Service(3, "ipip6", ipipVip, 80, 6, ipipPool, SchedulerKind.MAGLEV.create(ipipPool),
            ForwardingMode.IPIP));
        pipeline = new PacketPipeline(services, flows, counters, stats, capture(toClient), capture(toServer),
            capture(toControl), CLIENT_SIDE_MAC, SERVER_SIDE_MAC, LB_CLIENT_IP, GATEWAY_IP)
            .ipv6(flows6, aliases, clientIp6, gatewayIp6);
    }

    private int alias(final long high, final long low)
    {
        final int alias = Ipv6AliasTable.preferredAlias(high, low);
        if (aliases.alias(high, low) == Ipv6AliasTable.NONE)
        {
            assertTrue(aliases.put(alias, high, low));
        }
        return alias;
    }

    // --- frame building -------------------------------------------------------------------

    int l4(final long dstMac, final long srcMac, final long srcHigh, final long srcLow, final long dstHigh,
        final long dstLow, final int protocol, final int sport, final int dport, final int flags, final int payload)
    {
        return TestFrames.ipv6L4(frame, dstMac, srcMac, srcHigh, srcLow, dstHigh, dstLow, protocol, sport, dport, flags,
            payload);
    }

    int clientTcp(final long dstLow, final int sport, final int flags, final int payload)
    {
        return l4(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, CLIENT_NET, dstLow, 6, sport, 80, flags, payload);
    }

    int backendTcp(final int backend, final int cport, final int flags, final int payload)
    {
        return l4(SERVER_SIDE_MAC, BACKEND_MACS[backend], SERVER_NET, BACKEND_LOWS[backend], CLIENT_NET, CLIENT_LOW, 6, 80,
            cport, flags, payload);
    }

    byte[] bytes(final int length)
    {
        final byte[] copy = new byte[length];
        frame.getBytes(0, copy);
        return copy;
    }

    static UnsafeBuffer view(final byte[] f)
    {
        return new UnsafeBuffer(f);
    }

    static void assertL4ChecksumValid(final byte[] f)
    {
        final int protocol = f[20];
        final int stored = view(f).getShort(54 + Checksums.l4ChecksumOffset(protocol), BIG_ENDIAN) & 0xFFFF;
        assertEquals(ReferenceChecksum.ipv6L4Checksum(f, 14, 54, protocol), stored, "L4 checksum over the IPv6 pseudo-header");
    }

    /** Everything but the given byte ranges [from, to) is as it was. */
    static void assertUnchangedExcept(final byte[] before, final byte[] after, final int... ranges)
    {
        assertEquals(before.length, after.length);
        for (int i = 0; i < before.length; i++)
        {
            boolean changed = false;
            for (int r = 0; r < ranges.length; r += 2)
            {
                changed |= i >= ranges[r] && i < ranges[r + 1];
            }
            if (!changed)
            {
                assertEquals(before[i], after[i], "byte " + i);
            }
        }
    }

    // --- NAT66 ----------------------------------------------------------------------------

    @Test
    void nat66BothWaysRewritesAddressPortHopLimitAndChecksums()
    {
        final int length = clientTcp(VIP_LOW, 40000, TcpHeader.SYN, 0);
        final byte[] syn = bytes(length);
        pipeline.onClientFrame(frame, 0, length, 0, now);

        assertEquals(1, toServer.size());
        final byte[] out = toServer.get(0);
        final UnsafeBuffer o = view(out);
        assertEquals(BACKEND_MACS[0], EthernetHeader.getMac(o, 0));
        assertEquals(SERVER_SIDE_MAC, EthernetHeader.getMac(o, 6));
        assertEquals(63, out[21] & 0xFF, "hop limit decremented");
        assertEquals(CLIENT_NET, o.getLong(22, BIG_ENDIAN));
        assertEquals(CLIENT_LOW, o.getLong(30, BIG_ENDIAN), "client address kept");
        assertEquals(SERVER_NET, o.getLong(38, BIG_ENDIAN));
        assertEquals(BACKEND_LOWS[0], o.getLong(46, BIG_ENDIAN), "destination: the backend");
        assertEquals(80, o.getShort(56, BIG_ENDIAN) & 0xFFFF);
        assertL4ChecksumValid(out);
        assertUnchangedExcept(syn, out, 0, 12, 21, 22, 38, 54, 70, 72);
        assertEquals(1, counters.flowsCreated.get());
        assertEquals(2, flows6.size(), "forward and return entries in the IPv6 table");
        assertEquals(0, flows.size());
        assertEquals(1, pipeline.flowCount());
        assertEquals(1, pipeline.flowCount6());

        final int replyLength = backendTcp(0, 40000, TcpHeader.SYN | TcpHeader.ACK, 100);
        final byte[] reply = bytes(replyLength);
        pipeline.onServerFrame(frame, 0, replyLength, 0, now);
        assertEquals(1, toClient.size());
        final byte[] back = toClient.get(0);
        final UnsafeBuffer b = view(back);
        assertEquals(CLIENT_MAC, EthernetHeader.getMac(b, 0));
        assertEquals(CLIENT_SIDE_MAC, EthernetHeader.getMac(b, 6));
        assertEquals(63, back[21] & 0xFF);
        assertEquals(CLIENT_NET, b.getLong(22, BIG_ENDIAN));
        assertEquals(VIP_LOW, b.getLong(30, BIG_ENDIAN), "source: the VIP");
        assertEquals(80, b.getShort(54, BIG_ENDIAN) & 0xFFFF, "source port: the service's");
        assertL4ChecksumValid(back);
        assertUnchangedExcept(reply, back, 0, 12, 21, 22, 22, 38, 70, 72);
        assertEquals(0, counters.totalDrops());
    }

    @Test
    void roundRobinOverIpv6BackendsAndFinBothWaysClosesOnce()
    {
        for (int i = 0; i < 30; i++)
        {
            pipeline.onClientFrame(frame, 0, clientTcp(VIP_LOW, 41000 + i, TcpHeader.SYN, 0), 0, now);
        }
        final int[] perBackend = new int[3];
        for (final byte[] f : toServer)
        {
            perBackend[(int)(view(f).getLong(46, BIG_ENDIAN) - BACKEND_LOWS[0])]++;
        }
        assertArrayEquals(new int[] {10, 10, 10}, perBackend);

        pipeline.onClientFrame(frame, 0, clientTcp(VIP_LOW, 41000, TcpHeader.ACK, 0), 0, now);
        assertEquals(10, pool.activeFlows(pool.handleAt(0)));
        pipeline.onClientFrame(frame, 0, clientTcp(VIP_LOW, 41000, TcpHeader.FIN | TcpHeader.ACK, 0), 0, now);
        assertEquals(0, counters.flowsClosed.get(), "half-closed stays established");
        pipeline.onServerFrame(frame, 0, backendTcp(0, 41000, TcpHeader.FIN | TcpHeader.ACK, 0), 0, now);
        assertEquals(1, counters.flowsClosed.get());
        assertEquals(9, pool.activeFlows(pool.handleAt(0)));
        pipeline.onServerFrame(frame, 0, backendTcp(0, 41000, TcpHeader.FIN | TcpHeader.ACK, 0), 0, now);
        assertEquals(1, counters.flowsClosed.get(), "closed once");

        // Every flow expires: both entries go and the backends' active counts return to 0.
        now += 400_000_000_000L;
        pipeline.expire(now, flows6.slotCount());
        assertEquals(0, flows6.size());
        for (int slot = 0; slot < 3; slot++)
        {
            assertEquals(0, pool.activeFlows(pool.handleAt(slot)));
        }
        assertEquals(30, counters.flowsExpired.get(), "the closed flow's entries expire too");
    }

    @Test
    void udpBothWaysKeepsValidChecksums()
    {
        final int length = l4(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, CLIENT_NET, VIP_LOW, 17, 5000, 53, 0, 11);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        final byte[] out = toServer.get(0);
        assertEquals(5353, view(out).getShort(56, BIG_ENDIAN) & 0xFFFF, "the backend's own port");
        assertL4ChecksumValid(out);
        final int reply = l4(SERVER_SIDE_MAC, BACKEND_MACS[0], SERVER_NET, BACKEND_LOWS[0], CLIENT_NET, CLIENT_LOW, 17, 5353,
            5000, 0, 30);
        pipeline.onServerFrame(frame, 0, reply, 0, now);
        final byte[] back = toClient.get(0);
        assertEquals(53, view(back).getShort(54, BIG_ENDIAN) & 0xFFFF);
        assertEquals(VIP_LOW, view(back).getLong(30, BIG_ENDIAN));
        assertL4ChecksumValid(back);
    }

    @Test
    void partialChecksumsStayPartialWhenTransmitCompletesThemAndAreCompletedOtherwise()
    {
        for (final boolean vnet : new boolean[] {true, false})
        {
            final int length = clientTcp(VIP_LOW, vnet ? 42000 : 42001, TcpHeader.SYN, 33);
            // What the sending stack leaves in the field: the pseudo-header sum, folded, not complemented.
            frame.putShort(54 + 16, (short)ReferenceChecksum.ipv6PseudoHeaderSum(bytes(length), 14, 53, 6), BIG_ENDIAN);
            final int flags = PacketPipeline.RX_CHECKSUM_PARTIAL | (vnet ? PacketPipeline.RX_VNET : 0);
            pipeline.onClientFrame(frame, 0, length, flags, now);
            final byte[] out = toServer.get(toServer.size() - 1);
            final int stored = view(out).getShort(54 + 16, BIG_ENDIAN) & 0xFFFF;
            if (vnet)
            {
                assertEquals(ReferenceChecksum.ipv6PseudoHeaderSum(out, 14, 53, 6) % 0xFFFF, stored % 0xFFFF,
                    "still the partial sum, of the new addresses");
            }
            else
            {
                assertL4ChecksumValid(out);
            }
        }
    }

    @Test
    void hopLimitOneIsDroppedByNameAndAnsweredWithTimeExceeded()
    {
        final int length = clientTcp(VIP_LOW, 43000, TcpHeader.SYN, 0);
        frame.putByte(21, (byte)1);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(0, toServer.size());
        assertEquals(1, counters.drops(DropReason.HOP_LIMIT_EXCEEDED));
        assertEquals(1, toClient.size(), "ICMPv6 time exceeded (its bytes: Icmpv6ErrorRelayTest)");
        assertEquals(Icmpv6Header.TYPE_TIME_EXCEEDED, toClient.get(0)[54]);
        assertEquals(1, counters.icmpTimeExceededSent.get());
    }

    @Test
    void dsrChangesOnlyTheMacs()
    {
        final int length = clientTcp(VIP_LOW + 1, 44000, TcpHeader.SYN, 20);
        final byte[] syn = bytes(length);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        final byte[] out = toServer.get(0);
        assertEquals(BACKEND_MACS[1], EthernetHeader.getMac(view(out), 0));
        assertEquals(SERVER_SIDE_MAC, EthernetHeader.getMac(view(out), 6));
        assertUnchangedExcept(syn, out, 0, 12);
        assertEquals(1, flows6.size(), "one-way: the forward entry only");
        assertEquals(1, pipeline.flowCount6(), "a one-way flow counts whole in its family");
        assertEquals(1, pipeline.flowCount());

        // Maglev recovery: a non-SYN segment of a flow this instance never saw goes to Maglev's backend.
        pipeline.onClientFrame(frame, 0, clientTcp(VIP_LOW + 1, 44001, TcpHeader.ACK, 10), 0, now);
        assertEquals(2, toServer.size());
        assertEquals(1, counters.flowsRecovered.get());
    }

    // --- IPv6 in IPv6 (mode ipip) ---------------------------------------------------------

    /** Sets the inner packet's traffic class (DSCP AF41, ECN ECT(0)) and flow label; no checksum covers them. */
    void classAndLabel(final int trafficClass, final int flowLabel)
    {
        frame.putInt(14, 6 << 28 | trafficClass << 20 | flowLabel, BIG_ENDIAN);
    }

    @Test
    void ipipWrapsTheClientsIpv6PacketUnchangedInAnOuterIpv6Header()
    {
        final int length = clientTcp(VIP_LOW + 2, 44100, TcpHeader.SYN, 200);
        classAndLabel(0x8A, 0x12345);
        final byte[] original = bytes(length);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(1, toServer.size(), counters.toString());
        final byte[] out = toServer.get(0);
        final UnsafeBuffer o = view(out);

        assertEquals(length + Ip6Ip6Encap.OVERHEAD, out.length);
        assertEquals(BACKEND_MACS[2], EthernetHeader.getMac(o, 0));
        assertEquals(SERVER_SIDE_MAC, EthernetHeader.getMac(o, 6));
        assertEquals(0x86DD, o.getShort(12, BIG_ENDIAN) & 0xFFFF);
        final int word = o.getInt(14, BIG_ENDIAN);
        assertEquals(6, word >>> 28, "outer version");
        assertEquals(0x8A, word >>> 20 & 0xFF, "outer traffic class copied from the inner");
        final int label = word & 0xF_FFFF;
        assertTrue(label != 0 && label != 0x12345, "outer flow label: lb's hash of the inner flow, not the client's label");
        assertEquals(length - 14, o.getShort(18, BIG_ENDIAN) & 0xFFFF, "outer payload length: the whole inner packet");
        assertEquals(Ip6Ip6Encap.NEXT_HEADER_IPV6, out[20] & 0xFF, "next header 41: IPv6");
        assertEquals(64, out[21] & 0xFF, "outer hop limit");
        assertEquals(SERVER_NET, o.getLong(22, BIG_ENDIAN), "outer source: gateway-ip6");
        assertEquals(LB_LOW, o.getLong(30, BIG_ENDIAN));
        assertEquals(SERVER_NET, o.getLong(38, BIG_ENDIAN), "outer destination: the backend");
        assertEquals(BACKEND_LOWS[2], o.getLong(46, BIG_ENDIAN));
        assertArrayEquals(Arrays.copyOfRange(original, 14, length), Arrays.copyOfRange(out, 54, out.length),
            "the inner packet as the client sent it, hop limit and checksum included");
        assertEquals(1, flows6.size(), "one-way: the forward entry only");
        assertEquals(1, pipeline.flowCount6());
        assertEquals(out.length, counters.txServerBytes.get());
    }

    @Test
    void theOuterFlowLabelIsOneForEachFlowAndSpreadsFlows()
    {
        final Set<Integer> labels = new HashSet<>();
        for (int port = 45000; port < 45064; port++)
        {
            final int before = toServer.size();
            pipeline.onClientFrame(frame, 0, clientTcp(VIP_LOW + 2, port, TcpHeader.SYN, 0), 0, now);
            final int label = outerFlowLabel(toServer.get(before));
            for (final int flags : new int[] {TcpHeader.ACK, TcpHeader.ACK | TcpHeader.PSH, TcpHeader.FIN | TcpHeader.ACK})
            {
                final int length = clientTcp(VIP_LOW + 2, port, flags, 100);
                classAndLabel(0, port);   // whatever the client's own label, the outer one follows the flow
                pipeline.onClientFrame(frame, 0, length, 0, now);
                assertEquals(label, outerFlowLabel(toServer.get(toServer.size() - 1)), "port " + port + " flags " + flags);
            }
            labels.add(label);
        }
        assertEquals(64 * 4, toServer.size());
        assertTrue(labels.size() >= 62, "64 flows, distinct labels: " + labels.size());
    }

    private static int outerFlowLabel(final byte[] out)
    {
        return view(out).getInt(14, BIG_ENDIAN) & 0xF_FFFF;
    }

    @Test
    void aMidFlowSegmentThroughTheTunnelIsRecoveredByMaglev()
    {
        pipeline.onClientFrame(frame, 0, clientTcp(VIP_LOW + 2, 45100, TcpHeader.ACK, 10), 0, now);
        assertEquals(1, counters.flowsRecovered.get());
        assertEquals(1, toServer.size());
        assertEquals(Ip6Ip6Encap.NEXT_HEADER_IPV6, toServer.get(0)[20] & 0xFF);
    }

    @Test
    void aPacketTooBigForTheTunnelGetsPacketTooBigWithTheMtuLessForty()
    {
        // 1460 bytes of inner IPv6 packet: 1500 with the outer header fits the server side; 1461 does not.
        final int fits = clientTcp(VIP_LOW + 2, 45200, TcpHeader.SYN, 1460 - 60);
        pipeline.onClientFrame(frame, 0, fits, 0, now);
        assertEquals(1, toServer.size());
        assertEquals(14 + 1500, toServer.get(0).length);

        final int length = clientTcp(VIP_LOW + 2, 45200, TcpHeader.ACK, 1461 - 60);
        final byte[] original = bytes(length);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(1, toServer.size(), "the oversize packet is not sent");
        assertEquals(1, counters.drops(DropReason.TUNNEL_TOO_BIG));
        assertEquals(1, counters.icmp6PacketTooBigSent.get());
        assertEquals(1, toClient.size());
        final byte[] error = toClient.get(0);
        final UnsafeBuffer e = view(error);
        assertEquals(CLIENT_MAC, EthernetHeader.getMac(e, 0), "back to the frame's sender");
        assertEquals(CLIENT_SIDE_MAC, EthernetHeader.getMac(e, 6));
        assertEquals(0x86DD, e.getShort(12, BIG_ENDIAN) & 0xFFFF);
        assertEquals(0x6000_0000, e.getInt(14, BIG_ENDIAN), "version 6, class 0, label 0");
        // The quote fills the error up to IPv6's minimum MTU: 1280 - 40 - 8 bytes of the offending packet.
        final int quoted = 1280 - 40 - 8;
        assertEquals(8 + quoted, e.getShort(18, BIG_ENDIAN) & 0xFFFF, "payload length");
        assertEquals(58, error[20] & 0xFF, "ICMPv6");
        assertEquals(64, error[21] & 0xFF, "hop limit");
        assertEquals(CLIENT_NET, e.getLong(22, BIG_ENDIAN), "from lb's client-ip6");
        assertEquals(LB_LOW, e.getLong(30, BIG_ENDIAN));
        assertEquals(CLIENT_NET, e.getLong(38, BIG_ENDIAN), "to the packet's source");
        assertEquals(CLIENT_LOW, e.getLong(46, BIG_ENDIAN));
        assertEquals(Icmpv6Header.TYPE_PACKET_TOO_BIG, error[54] & 0xFF);
        assertEquals(0, error[55]);
        assertEquals(1460, e.getInt(58, BIG_ENDIAN), "MTU: the server side's minus the outer header");
        assertArrayEquals(Arrays.copyOfRange(original, 14, 14 + quoted), Arrays.copyOfRange(error, 62, error.length),
            "quotes the offending packet from its IPv6 header on");
        assertEquals(14 + 1280, error.length);
        assertEquals(ReferenceChecksum.ipv6L4Checksum(error, 14, 54, 58), e.getShort(56, BIG_ENDIAN) & 0xFFFF,
            "ICMPv6 checksum over the pseudo-header");
    }

    @Test
    void packetTooBigIsSentWithinTheIcmpErrorBudgetAndTheServerMtuSetsIt()
    {
        pipeline.serverMtu(1400);
        pipeline.onClientFrame(frame, 0, clientTcp(VIP_LOW + 2, 45300, TcpHeader.SYN, 0), 0, now);
        final int length = clientTcp(VIP_LOW + 2, 45300, TcpHeader.ACK, 1361 - 60);
        final byte[] big = bytes(length);
        for (int i = 0; i < PacketPipeline.ICMP_ERROR_BURST + 10; i++)
        {
            frame.putBytes(0, big);
            pipeline.onClientFrame(frame, 0, length, 0, now);
        }
        assertEquals(PacketPipeline.ICMP_ERROR_BURST + 10, counters.drops(DropReason.TUNNEL_TOO_BIG));
        assertEquals(PacketPipeline.ICMP_ERROR_BURST, counters.icmp6PacketTooBigSent.get(), "a burst, then the budget is spent");
        assertEquals(1360, view(toClient.get(0)).getInt(58, BIG_ENDIAN), "1400 - 40");
        now += 1_000_000_000L;
        frame.putBytes(0, big);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(PacketPipeline.ICMP_ERROR_BURST + 1, counters.icmp6PacketTooBigSent.get(), "refilled a second later");
        assertEquals(1, toServer.size(), "the SYN only");
    }

    @Test
    void noPacketTooBigGoesToAMulticastSource()
    {
        final long multicast = 0xFF02_0000_0000_0000L;
        final int length = l4(CLIENT_SIDE_MAC, CLIENT_MAC, multicast, 1, CLIENT_NET, VIP_LOW + 2, 6, 45350, 80, TcpHeader.SYN,
            1401);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(0, toServer.size());
        assertEquals(1, counters.drops(DropReason.TUNNEL_TOO_BIG), "dropped by name");
        assertEquals(0, counters.icmp6PacketTooBigSent.get());
        assertEquals(0, toClient.size(), "a group's members are not answered with errors");
    }

    @Test
    void aGsoSuperFrameForAnIpv6TunnelIsCountedNotSent()
    {
        final int length = clientTcp(VIP_LOW + 2, 45400, TcpHeader.SYN, 0);
        pipeline.onClientFrame(frame, 0, length, PacketPipeline.RX_VNET | PacketPipeline.RX_GSO, now);
        assertEquals(0, toServer.size());
        assertEquals(0, toClient.size());
        assertEquals(1, counters.drops(DropReason.TUNNEL_GSO));
    }

    @Test
    void aPartialChecksumIsCompletedBeforeTheInnerPacketIsWrapped()
    {
        final int length = clientTcp(VIP_LOW + 2, 45500, TcpHeader.SYN, 30);
        final byte[] full = bytes(length);
        // What a local sender's veth hands over: the pseudo-header sum only, to be completed by someone.
        frame.putShort(54 + 16, (short)ReferenceChecksum.ipv6PseudoHeaderSum(full, 14, 20 + 30, 6), BIG_ENDIAN);
        pipeline.onClientFrame(frame, 0, length, PacketPipeline.RX_CHECKSUM_PARTIAL, now);
        final byte[] out = toServer.get(0);
        assertArrayEquals(Arrays.copyOfRange(full, 14, length), Arrays.copyOfRange(out, 54, out.length),
            "the inner TCP checksum is whole again");
    }

    @Test
    void framesForNoServiceNoFlowOrSomeoneElseAreDroppedByReason()
    {
        pipeline.onClientFrame(frame, 0, clientTcp(VIP_LOW, 45000, TcpHeader.ACK, 0), 0, now);
        assertEquals(1, counters.drops(DropReason.NO_FLOW));
        pipeline.onClientFrame(frame, 0, l4(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, CLIENT_NET, VIP_LOW, 6, 1, 81,
            TcpHeader.SYN, 0), 0, now);
        assertEquals(1, counters.drops(DropReason.NO_SERVICE));
        pipeline.onClientFrame(frame, 0, clientTcp(0x999, 45001, TcpHeader.SYN, 0), 0, now);
        assertEquals(1, counters.drops(DropReason.IPV6_NOT_FOR_US));
        pipeline.onServerFrame(frame, 0, backendTcp(2, 45002, TcpHeader.ACK, 0), 0, now);
        assertEquals(2, counters.drops(DropReason.NO_FLOW));
        assertEquals(0, toServer.size() + toClient.size());

        // Without ipv6() a pipeline has no IPv6 addresses: IPv6 frames are not for it.
        final DataplaneCounters plain = new DataplaneCounters(countersManager, 7);
        final PacketPipeline v4Only = new PacketPipeline(services, new FlowTable(64), plain, stats, capture(toClient),
            capture(toServer), capture(toControl), CLIENT_SIDE_MAC, SERVER_SIDE_MAC, LB_CLIENT_IP, GATEWAY_IP);
        v4Only.onClientFrame(frame, 0, clientTcp(VIP_LOW, 45003, TcpHeader.SYN, 0), 0, now);
        v4Only.onClientFrame(frame, 0, solicitation(CLIENT_NET, VIP_LOW), 0, now);
        assertEquals(1, plain.drops(DropReason.IPV6_NOT_FOR_US));
        assertEquals(1, plain.drops(DropReason.NDP_NOT_FOR_US));
        assertEquals(0, toServer.size() + toClient.size());
    }

    // --- TCP health checks --------------------------------------------------------------------

    /** A backend's answer from port 80 to gateway-ip6 (or {@code dstLow} on the server LAN) and port {@code dport}. */
    int checkAnswer(final int backend, final long dstLow, final int dport, final int flags)
    {
        return l4(SERVER_SIDE_MAC, BACKEND_MACS[backend], SERVER_NET, BACKEND_LOWS[backend], SERVER_NET, dstLow, 6, 80,
            dport, flags, 0);
    }

    @Test
    void aBackendsAnswerToAnIpv6TcpCheckGoesToControlAndNothingElse()
    {
        final int checkPort = TcpCheckFrames.FIRST_SOURCE_PORT + 9;
        final int length = checkAnswer(0, LB_LOW, checkPort, TcpHeader.SYN | TcpHeader.ACK);
        final byte[] sent = bytes(length);
        pipeline.onServerFrame(frame, 0, length, 0, now);
        assertEquals(1, toControl.size(), "the SYN-ACK reaches the control thread");
        assertArrayEquals(sent, toControl.get(0), "as it was received");
        pipeline.onServerFrame(frame, 0, checkAnswer(1, LB_LOW, checkPort, TcpHeader.RST | TcpHeader.ACK), 0, now);
        assertEquals(2, toControl.size(), "an RST too");
        assertEquals(2, counters.healthCheckRepliesToControl.get());

        // Just outside the range, or to another address of the LAN, it is a flow's frame (and there is none).
        pipeline.onServerFrame(frame, 0, checkAnswer(0, LB_LOW, TcpCheckFrames.FIRST_SOURCE_PORT - 1, TcpHeader.SYN | TcpHeader.ACK),
            0, now);
        pipeline.onServerFrame(frame, 0, checkAnswer(0, LB_LOW, TcpCheckFrames.FIRST_SOURCE_PORT + TcpCheckFrames.SOURCE_PORT_COUNT,
            TcpHeader.SYN | TcpHeader.ACK), 0, now);
        pipeline.onServerFrame(frame, 0, checkAnswer(0, 0x77, checkPort, TcpHeader.SYN | TcpHeader.ACK), 0, now);
        assertEquals(3, counters.drops(DropReason.NO_FLOW));
        // To gateway-ip6 but another MAC: not for lb.
        final int otherMac = checkAnswer(0, LB_LOW, checkPort, TcpHeader.SYN | TcpHeader.ACK);
        EthernetHeader.putMac(frame, EthernetHeader.DESTINATION_OFFSET, 0x02_00_00_00_09_09L);
        pipeline.onServerFrame(frame, 0, otherMac, 0, now);
        assertEquals(1, counters.drops(DropReason.NOT_FOR_US));
        assertEquals(2, toControl.size());
        assertEquals(2, counters.healthCheckRepliesToControl.get());
        assertEquals(0, toServer.size() + toClient.size(), "nothing forwarded or answered");

        // The check range on a pipeline without gateway-ip6 is an ordinary port: a NAT66 backend's reply from it is no check's.
        final DataplaneCounters noGateway = new DataplaneCounters(countersManager, 8);
        final PacketPipeline clientOnly = new PacketPipeline(services, new FlowTable(64), noGateway, stats, capture(toClient),
            capture(toServer), capture(toControl), CLIENT_SIDE_MAC, SERVER_SIDE_MAC, LB_CLIENT_IP, GATEWAY_IP)
            .ipv6(FlowTable.ipv6(1024, FullPolicy.EVICT_STALEST, null), aliases, clientIp6, Ipv6AliasTable.NONE);
        clientOnly.onServerFrame(frame, 0, checkAnswer(0, LB_LOW, checkPort, TcpHeader.SYN | TcpHeader.ACK), 0, now);
        assertEquals(1, noGateway.drops(DropReason.NO_FLOW));
        assertEquals(2, toControl.size());
    }

    // --- neighbour discovery and echo -------------------------------------------------------

    /** A neighbour solicitation from the client for {@code target}, to its solicited-node address. */
    int solicitation(final long targetHigh, final long targetLow)
    {
        return NeighborDiscovery.writeSolicitation(frame, 0, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, targetHigh, targetLow);
    }

    @Test
    void solicitationsForTheVipAndLbsAddressAreAdvertisedWithLbsMac()
    {
        for (final long target : new long[] {VIP_LOW, LB_LOW})
        {
            toClient.clear();
            pipeline.onClientFrame(frame, 0, solicitation(CLIENT_NET, target), 0, now);
            assertEquals(1, toClient.size());
            final byte[] na = toClient.get(0);
            final UnsafeBuffer n = view(na);
            assertEquals(14 + 40 + 32, na.length);
            assertEquals(CLIENT_MAC, EthernetHeader.getMac(n, 0), "to the solicitor's link-layer address");
            assertEquals(CLIENT_SIDE_MAC, EthernetHeader.getMac(n, 6));
            assertEquals(Ipv6Header.ETHER_TYPE_IPV6, n.getShort(12, BIG_ENDIAN) & 0xFFFF);
            assertEquals(0x6000_0000, n.getInt(14, BIG_ENDIAN));
            assertEquals(32, n.getShort(18, BIG_ENDIAN));
            assertEquals(58, na[20]);
            assertEquals(255, na[21] & 0xFF);
            assertEquals(CLIENT_NET, n.getLong(22, BIG_ENDIAN));
            assertEquals(target, n.getLong(30, BIG_ENDIAN), "from the target address");
            assertEquals(CLIENT_NET, n.getLong(38, BIG_ENDIAN));
            assertEquals(CLIENT_LOW, n.getLong(46, BIG_ENDIAN), "to the solicitor");
            assertEquals(136, na[54] & 0xFF);
            assertEquals(0, na[55]);
            assertEquals(ReferenceChecksum.ipv6L4Checksum(na, 14, 54, 58), n.getShort(56, BIG_ENDIAN) & 0xFFFF);
            assertEquals(0x6000_0000, n.getInt(58, BIG_ENDIAN), "solicited and override, not router");
            assertEquals(CLIENT_NET, n.getLong(62, BIG_ENDIAN));
            assertEquals(target, n.getLong(70, BIG_ENDIAN));
            assertEquals(2, na[78], "target link-layer address option");
            assertEquals(1, na[79]);
            assertEquals(CLIENT_SIDE_MAC, EthernetHeader.getMac(n, 80));
        }
        assertEquals(2, counters.ndpAdvertisements.get());
        assertEquals(2, counters.answered());

        pipeline.onClientFrame(frame, 0, solicitation(CLIENT_NET, 0x12), 0, now);
        assertEquals(1, counters.drops(DropReason.NDP_NOT_FOR_US), "another host's address");
        final int length = solicitation(CLIENT_NET, VIP_LOW);
        frame.putByte(21, (byte)64);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(1, counters.drops(DropReason.BAD_NDP), "hop limit not 255");
        final int rs = solicitation(CLIENT_NET, VIP_LOW);
        frame.putByte(54, (byte)Icmpv6Header.TYPE_ROUTER_SOLICITATION);
        pipeline.onClientFrame(frame, 0, rs, 0, now);
        assertEquals(2, counters.drops(DropReason.NDP_NOT_FOR_US), "router solicitation");
        assertEquals(1, toClient.size(), "nothing sent after the second advertisement");
    }

    @Test
    void echoRequestsToTheVipAreAnsweredWithTheirData()
    {
        final UnsafeBuffer data = new UnsafeBuffer("ping6 lb!".getBytes());
        final int length = Icmpv6Header.writeEchoFrame(frame, 0, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW,
            CLIENT_NET, VIP_LOW, Icmpv6Header.TYPE_ECHO_REQUEST, 0x1234, 9, data, 0, data.capacity());
        final byte[] request = bytes(length);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(1, toClient.size());
        final byte[] reply = toClient.get(0);
        final UnsafeBuffer r = view(reply);
        assertEquals(length, reply.length);
        assertEquals(CLIENT_MAC, EthernetHeader.getMac(r, 0));
        assertEquals(CLIENT_SIDE_MAC, EthernetHeader.getMac(r, 6));
        assertEquals(VIP_LOW, r.getLong(30, BIG_ENDIAN));
        assertEquals(CLIENT_LOW, r.getLong(46, BIG_ENDIAN));
        assertEquals(129, reply[54] & 0xFF);
        assertEquals(ReferenceChecksum.ipv6L4Checksum(reply, 14, 54, 58), r.getShort(56, BIG_ENDIAN) & 0xFFFF);
        assertUnchangedExcept(request, reply, 0, 12, 21, 22, 22, 54, 54, 55, 56, 58);
        assertEquals(1, counters.icmpEchoReplies.get());

        frame.putByte(length - 1, (byte)0);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(1, counters.drops(DropReason.BAD_ICMPV6_CHECKSUM));
    }

    @Test
    void serverSideAdvertisementsGoToControlAndTheGatewayIsAdvertised()
    {
        final int na = NeighborDiscovery.writeAdvertisement(frame, 0, SERVER_SIDE_MAC, BACKEND_MACS[0], SERVER_NET,
            BACKEND_LOWS[0], SERVER_NET, LB_LOW, SERVER_NET, BACKEND_LOWS[0],
            NeighborDiscovery.FLAG_SOLICITED | NeighborDiscovery.FLAG_OVERRIDE);
        final byte[] advertisement = bytes(na);
        pipeline.onServerFrame(frame, 0, na, 0, now);
        assertEquals(1, toControl.size());
        assertArrayEquals(advertisement, toControl.get(0));

        final int ns = NeighborDiscovery.writeSolicitation(frame, 0, BACKEND_MACS[2], SERVER_NET, BACKEND_LOWS[2], SERVER_NET,
            LB_LOW);
        pipeline.onServerFrame(frame, 0, ns, 0, now);
        assertEquals(2, toControl.size(), "the backend's MAC, in its solicitation, for the control thread");
        assertEquals(1, toServer.size());
        final byte[] reply = toServer.get(0);
        assertEquals(BACKEND_MACS[2], EthernetHeader.getMac(view(reply), 0));
        assertEquals(SERVER_SIDE_MAC, EthernetHeader.getMac(view(reply), 80), "the gateway is at lb's server-side MAC");
        assertEquals(ReferenceChecksum.ipv6L4Checksum(reply, 14, 54, 58), view(reply).getShort(56, BIG_ENDIAN) & 0xFFFF);
        assertEquals(2, counters.ndpToControl.get());
        assertEquals(1, counters.gatewayNdpAdvertisements.get());
        assertEquals(0, counters.totalDrops());
    }

    // --- accounting and allocation --------------------------------------------------------

    /** An ICMPv6 error (type 1 to 4) from a client-side router to the VIP about lb's packet VIP:80 -> client:cport. */
    int clientSideError(final int cport, final int type, final int payload)
    {
        l4(CLIENT_MAC, CLIENT_SIDE_MAC, CLIENT_NET, VIP_LOW, CLIENT_NET, CLIENT_LOW, 6, 80, cport, TcpHeader.ACK, payload);
        final byte[] lbSent = bytes(14 + 40 + 20 + payload);
        return TestFrames.icmpv6Error(frame, CLIENT_SIDE_MAC, PacketPipelineTest.ROUTER_MAC, CLIENT_NET, 0x2, CLIENT_NET, VIP_LOW,
            type, 0, 1400, lbSent, lbSent.length - 14);
    }

    /** An ICMPv6 error from a backend to the client about lb's packet client:cport -> backend:80. */
    int serverSideError(final int backend, final int cport, final int type, final int payload)
    {
        l4(BACKEND_MACS[backend], SERVER_SIDE_MAC, CLIENT_NET, CLIENT_LOW, SERVER_NET, BACKEND_LOWS[backend], 6, cport, 80,
            TcpHeader.ACK, payload);
        final byte[] lbSent = bytes(14 + 40 + 20 + payload);
        return TestFrames.icmpv6Error(frame, SERVER_SIDE_MAC, BACKEND_MACS[backend], SERVER_NET, BACKEND_LOWS[backend],
            CLIENT_NET, CLIENT_LOW, type, 4, 0, lbSent, lbSent.length - 14);
    }

    /** rx = forwarded + answered + drops + to control over 100,000 frames of both families, valid and mutated. */
    @Test
    void everyFrameOfBothFamiliesIsAccountedFor()
    {
        final Random random = new Random(6);
        for (int i = 0; i < 100_000; i++)
        {
            final boolean client = random.nextBoolean();
            int length = switch (random.nextInt(11))
            {
                case 0 -> clientTcp(VIP_LOW + random.nextInt(3), 46000 + random.nextInt(64), random.nextInt(64),
                    random.nextInt(60));
                case 1 -> backendTcp(random.nextInt(3), 46000 + random.nextInt(64), random.nextInt(64), random.nextInt(60));
                case 2 -> l4(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, CLIENT_NET, VIP_LOW, 17,
                    5000 + random.nextInt(8), 53, 0, random.nextInt(30));
                case 3 -> solicitation(random.nextBoolean() ? CLIENT_NET : SERVER_NET, random.nextInt(4) == 0 ? 0x77 : LB_LOW);
                case 4 -> Icmpv6Header.writeEchoFrame(frame, 0, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW,
                    random.nextBoolean() ? CLIENT_NET : SERVER_NET, random.nextBoolean() ? VIP_LOW : LB_LOW,
                    Icmpv6Header.TYPE_ECHO_REQUEST, 1, i, frame, 200, random.nextInt(20));
                case 5 -> NeighborDiscovery.writeAdvertisement(frame, 0, SERVER_SIDE_MAC, BACKEND_MACS[0], SERVER_NET,
                    BACKEND_LOWS[0], SERVER_NET, LB_LOW, SERVER_NET, BACKEND_LOWS[0], NeighborDiscovery.FLAG_OVERRIDE);
                case 6 -> TestFrames.tcp(frame, CLIENT_SIDE_MAC, CLIENT_MAC, PacketPipelineTest.CLIENT_IP,
                    PacketPipelineTest.VIP, 40000 + random.nextInt(8), 80, random.nextInt(64), random.nextInt(20));
                // ICMPv6 errors about flows' packets: lb's to the client (from a client-side router to the VIP), and
                // lb's to a backend (from that backend to the client); hop limit 1 sometimes, for time exceeded.
                case 7 -> clientSideError(46000 + random.nextInt(64), random.nextInt(5), random.nextInt(80));
                case 8 -> serverSideError(random.nextInt(3), 46000 + random.nextInt(64), random.nextInt(5), random.nextInt(80));
                // A backend's answer to a TCP health check from gateway-ip6, or a frame just outside the check ports.
                case 9 -> checkAnswer(random.nextInt(3), LB_LOW, TcpCheckFrames.FIRST_SOURCE_PORT - 2 + random.nextInt(8),
                    random.nextInt(64));
                default -> l4(SERVER_SIDE_MAC, BACKEND_MACS[0], SERVER_NET, BACKEND_LOWS[0], CLIENT_NET, CLIENT_LOW, 17, 5353,
                    5000 + random.nextInt(8), 0, random.nextInt(30));
            };
            if (random.nextInt(32) == 0)
            {
                frame.putByte(21, (byte)random.nextInt(2));
            }
            length = TestFrames.mutate(frame, length, random);
            now += 1_000;
            final int flags = random.nextInt(16) == 0 ? PacketPipeline.RX_CHECKSUM_PARTIAL : 0;
            if (client)
            {
                pipeline.onClientFrame(frame, 0, length, flags, now);
            }
            else
            {
                pipeline.onServerFrame(frame, 0, length, flags, now);
            }
            if ((i & 1023) == 0)
            {
                pipeline.expire(now, 256);
            }
        }
        final String figures = "tx " + counters.txFrames() + ", answered " + counters.answered() + ", drops " +
            counters.framesDropped() + ", to control " + counters.toControl() + ", NAs " + counters.ndpAdvertisements.get();
        assertEquals(100_000, counters.rxFrames());
        assertTrue(counters.txFrames() > 5000 && counters.ndpAdvertisements.get() > 300 &&
            counters.ndpToControl.get() > 300 && counters.icmpEchoReplies.get() > 300 &&
            counters.icmpErrorsForwardedToServer.get() > 100 && counters.icmpErrorsForwardedToClient.get() > 100 &&
            counters.icmpTimeExceededSent.get() > 100 &&
            counters.healthCheckRepliesToControl.get() > 300, "the mix reaches every path: " + figures);
        assertEquals(toClient.size() + toServer.size(), counters.txFrames() + counters.answered() + counters.madeUp(), figures);
        assertEquals(toControl.size(), counters.toControl(), figures);
        assertEquals(0, counters.unaccounted(), figures);
    }

    /**
     * NAT66 both ways, a solicitation, an echo, DSR and IPv6-in-IPv6 (one packet that fits, one answered with packet
     * too big), 40,000 rounds after warm-up: under 1 KiB allocated.
     */
    @Test
    void theIpv6PathAllocatesNothing()
    {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final PacketPipeline quiet = new PacketPipeline(services, flows, counters, stats, (b, o, l) -> true,
            (b, o, l) -> true, (b, o, l) -> true, CLIENT_SIDE_MAC, SERVER_SIDE_MAC, LB_CLIENT_IP, GATEWAY_IP)
            .ipv6(flows6, aliases, clientIp6, gatewayIp6);
        final int kinds = 8;
        final UnsafeBuffer[] frames = new UnsafeBuffer[kinds];
        final int[] lengths = new int[kinds];
        lengths[0] = clientTcp(VIP_LOW, 47000, TcpHeader.SYN, 10);
        lengths[1] = backendTcp(0, 47000, TcpHeader.SYN | TcpHeader.ACK, 10);
        lengths[2] = clientTcp(VIP_LOW, 47000, TcpHeader.ACK, 100);
        lengths[3] = solicitation(CLIENT_NET, VIP_LOW);
        lengths[4] = Icmpv6Header.writeEchoFrame(frame, 0, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, CLIENT_NET,
            VIP_LOW, Icmpv6Header.TYPE_ECHO_REQUEST, 1, 1, frame, 100, 16);
        lengths[5] = clientTcp(VIP_LOW + 1, 47001, TcpHeader.ACK, 10);
        lengths[6] = clientTcp(VIP_LOW + 2, 47002, TcpHeader.ACK, 100);
        lengths[7] = clientTcp(VIP_LOW + 2, 47003, TcpHeader.ACK, 1401);
        final byte[][] templates = new byte[kinds][];
        for (int i = 0; i < kinds; i++)
        {
            rebuild(i, lengths);
            templates[i] = bytes(lengths[i]);
            frames[i] = new UnsafeBuffer(new byte[2048]);
        }
        long allocated = 0;
        for (int round = 0; round < 2; round++)
        {
            final long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 40_000; i++)
            {
                final int k = i % kinds;
                frames[k].putBytes(0, templates[k]);
                now += 1_000;
                if (k == 1)
                {
                    quiet.onServerFrame(frames[k], 0, lengths[k], 0, now);
                }
                else
                {
                    quiet.onClientFrame(frames[k], 0, lengths[k], 0, now);
                }
            }
            quiet.expire(now, 1024);
            allocated = threads.getCurrentThreadAllocatedBytes() - before;
        }
        assertTrue(counters.txFrames() > 20_000, "forwarded " + counters.txFrames());
        assertTrue(counters.drops(DropReason.TUNNEL_TOO_BIG) > 9_000 && counters.icmp6PacketTooBigSent.get() > 50,
            "the packet-too-big path ran: " + counters.icmp6PacketTooBigSent.get());
        assertTrue(allocated < 1024, "bytes allocated by 40,000 IPv6 frames after warm-up: " + allocated);
    }

    private void rebuild(final int i, final int[] lengths)
    {
        switch (i)
        {
            case 0 -> clientTcp(VIP_LOW, 47000, TcpHeader.SYN, 10);
            case 1 -> backendTcp(0, 47000, TcpHeader.SYN | TcpHeader.ACK, 10);
            case 2 -> clientTcp(VIP_LOW, 47000, TcpHeader.ACK, 100);
            case 3 -> solicitation(CLIENT_NET, VIP_LOW);
            case 4 -> Icmpv6Header.writeEchoFrame(frame, 0, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, CLIENT_NET,
                VIP_LOW, Icmpv6Header.TYPE_ECHO_REQUEST, 1, 1, frame, 100, 16);
            case 5 -> clientTcp(VIP_LOW + 1, 47001, TcpHeader.ACK, 10);
            case 6 -> clientTcp(VIP_LOW + 2, 47002, TcpHeader.ACK, 100);
            default -> clientTcp(VIP_LOW + 2, 47003, TcpHeader.ACK, 1401);
        }
    }
}
