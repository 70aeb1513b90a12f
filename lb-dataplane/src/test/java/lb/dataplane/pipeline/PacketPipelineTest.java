package lb.dataplane.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import lb.dataplane.checksum.Checksums;
import lb.dataplane.checksum.ReferenceChecksum;
import lb.dataplane.flow.FlowTable;
import lb.dataplane.flow.FullPolicy;
import lb.dataplane.packet.ArpPacket;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.IcmpHeader;
import lb.dataplane.packet.Ipv4Header;
import lb.dataplane.packet.TcpCheckFrames;
import lb.dataplane.packet.TcpHeader;
import lb.dataplane.sched.AdminState;
import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.SchedulerKind;
import lb.dataplane.spread.RouteForwarder;
import lb.dataplane.spread.SpreadPolicy;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Golden-packet tests of the whole per-frame path: real frames in, the frames lb emits on each
 * side checked byte by byte, with checksums verified by the independent reference implementation.
 */
class PacketPipelineTest extends PipelineFixture
{
    static final long CLIENT_SIDE_MAC = 0x02_00_00_00_01_01L;
    static final long SERVER_SIDE_MAC = 0x02_00_00_00_02_01L;
    static final long CLIENT_MAC = 0x02_00_00_00_00_0BL;
    static final long ROUTER_MAC = 0x02_00_00_00_00_02L;
    static final int LB_CLIENT_IP = 0xC612_0001;  // 198.18.0.1
    static final int GATEWAY_IP = 0xC612_0101;    // 198.18.1.1
    static final int VIP = 0xC612_0064;           // 198.18.0.100
    static final int CLIENT_IP = 0xC612_000B;     // 198.18.0.11
    static final int REMOTE_CLIENT_IP = 0xC612_020B; // 198.18.2.11, behind a router
    static final int[] BACKEND_IPS = {0xC612_010B, 0xC612_010C, 0xC612_010D};
    static final long[] BACKEND_MACS = {0x02_00_00_00_03_0BL, 0x02_00_00_00_03_0CL, 0x02_00_00_00_03_0DL};

    final List<byte[]> toControl = new ArrayList<>();
    final BackendStatsTable stats = new BackendStatsTable();
    final BackendPool pool = new BackendPool(16);
    final int[] handles = new int[3];
    final PacketPipeline pipeline;
    long now = 1_000_000_000L;

    PacketPipelineTest()
    {
        for (int i = 0; i < 3; i++)
        {
            handles[i] = pool.add(BACKEND_IPS[i], 0, 1);
            pool.setMac(handles[i], BACKEND_MACS[i]);
        }
        services.add(new Service(0, "web", VIP, 80, 6, pool, SchedulerKind.ROUND_ROBIN.create(pool)));
        final BackendPool udpPool = new BackendPool(16);
        udpPool.setMac(udpPool.add(BACKEND_IPS[0], 5353, 1), BACKEND_MACS[0]);
        services.add(new Service(1, "dns", VIP, 53, 17, udpPool, SchedulerKind.ROUND_ROBIN.create(udpPool)));
        pipeline = new PacketPipeline(services, flows, counters, stats, capture(toClient), capture(toServer), capture(toControl),
            CLIENT_SIDE_MAC, SERVER_SIDE_MAC, LB_CLIENT_IP, GATEWAY_IP);
    }

    static FrameSink capture(final List<byte[]> out)
    {
        return (DirectBuffer buffer, int offset, int length) ->
        {
            final byte[] copy = new byte[length];
            buffer.getBytes(offset, copy);
            out.add(copy);
            return true;
        };
    }

    /** A sink that refuses every frame for the given reason. */
    static FrameSink refusing(final DropReason reason)
    {
        return new FrameSink()
        {
            @Override
            public boolean send(final DirectBuffer buffer, final int offset, final int length)
            {
                return false;
            }

            @Override
            public DropReason lastRefusal()
            {
                return reason;
            }
        };
    }

    @Test
    void aRefusedForwardIsCountedUnderTheSinksReason()
    {
        for (final DropReason reason : new DropReason[] {DropReason.OVERSIZE_FRAME, DropReason.TX_RING_FULL})
        {
            final DataplaneCounters c = new DataplaneCounters(countersManager, 1 + reason.ordinal());
            final PacketPipeline refused = new PacketPipeline(services, new FlowTable(1024), c, new BackendStatsTable(),
                capture(toClient), refusing(reason), capture(toControl), CLIENT_SIDE_MAC, SERVER_SIDE_MAC, LB_CLIENT_IP,
                GATEWAY_IP);
            final int length = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40_000, 80, TcpHeader.SYN, 0);
            refused.onClientFrame(frame, 0, length, 0, now);

            assertEquals(1, c.drops(reason), reason.name());
            assertEquals(1, c.totalDrops(), "one drop, under " + reason.name());
            assertEquals(0, c.txServerFrames.get());
        }
    }

    // --- frame building -------------------------------------------------------------------

    /** Writes an Ethernet/IPv4/TCP frame with 'payload' bytes of data and valid checksums; returns its length. */
    int tcp(final long dstMac, final long srcMac, final int src, final int dst, final int sport, final int dport,
        final int flags, final int payload)
    {
        return TestFrames.tcp(frame, dstMac, srcMac, src, dst, sport, dport, flags, payload);
    }

    int udp(final long dstMac, final long srcMac, final int src, final int dst, final int sport, final int dport,
        final int payload, final boolean withChecksum)
    {
        return TestFrames.udp(frame, dstMac, srcMac, src, dst, sport, dport, payload, withChecksum);
    }

    void fromClient(final int length)
    {
        pipeline.onClientFrame(frame, 0, length, 0, now);
    }

    void fromServer(final int length)
    {
        pipeline.onServerFrame(frame, 0, length, 0, now);
    }

    /** A client opens a TCP connection to VIP:80: returns the frame lb sent toward the backend. */
    byte[] connect(final int clientPort)
    {
        final int sent = toServer.size();
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, clientPort, 80, TcpHeader.SYN, 0));
        assertEquals(sent + 1, toServer.size(), "SYN forwarded");
        return toServer.get(sent);
    }

    static long mac(final byte[] f, final int offset)
    {
        return EthernetHeader.getMac(new UnsafeBuffer(f), offset);
    }

    static int int32(final byte[] f, final int offset)
    {
        return new UnsafeBuffer(f).getInt(offset, BIG_ENDIAN);
    }

    static int port(final byte[] f, final int offset)
    {
        return new UnsafeBuffer(f).getShort(offset, BIG_ENDIAN) & 0xFFFF;
    }

    static void assertChecksumsValid(final byte[] f)
    {
        assertEquals(ReferenceChecksum.ipv4HeaderChecksum(f, 14), port(f, 24), "IPv4 header checksum");
        final int stored = port(f, 14 + 20 + (f[23] == 6 ? 16 : 6));
        if (f[23] == 17 && stored == 0)
        {
            return;
        }
        assertEquals(ReferenceChecksum.l4Checksum(f, 14), stored, "L4 checksum");
    }

    // --- tests ----------------------------------------------------------------------------

    @Test
    void newTcpFlowIsRewrittenTowardTheBackend()
    {
        final int length = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40000, 80, TcpHeader.SYN, 0);
        final byte[] original = new byte[length];
        frame.getBytes(0, original);
        fromClient(length);

        assertEquals(1, toServer.size());
        final byte[] out = toServer.get(0);
        assertEquals(length, out.length);
        assertEquals(BACKEND_MACS[0], mac(out, 0), "dst MAC: the backend's, learned by ARP");
        assertEquals(SERVER_SIDE_MAC, mac(out, 6), "src MAC: lb's server-side interface");
        assertEquals(63, out[22] & 0xFF, "TTL decremented");
        assertEquals(CLIENT_IP, int32(out, 26), "client address kept");
        assertEquals(BACKEND_IPS[0], int32(out, 30));
        assertEquals(40000, port(out, 34));
        assertEquals(80, port(out, 36));
        assertChecksumsValid(out);
        // Everything but the rewritten fields is untouched: TCP header up to the checksum, and after it.
        assertArrayEquals(Arrays.copyOfRange(original, 38, 50), Arrays.copyOfRange(out, 38, 50));
        assertArrayEquals(Arrays.copyOfRange(original, 52, length), Arrays.copyOfRange(out, 52, length));
        assertEquals(1, pipeline.flowCount());
        assertEquals(1, pool.activeFlows(handles[0]));
    }

    @Test
    void replyFromTheBackendComesBackFromTheVip()
    {
        connect(40001);
        final int length = tcp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], CLIENT_IP, 80, 40001,
            TcpHeader.SYN | TcpHeader.ACK, 100);
        fromServer(length);

        assertEquals(1, toClient.size());
        final byte[] out = toClient.get(0);
        assertEquals(CLIENT_MAC, mac(out, 0), "dst MAC: the client's, kept in the flow");
        assertEquals(CLIENT_SIDE_MAC, mac(out, 6));
        assertEquals(VIP, int32(out, 26), "source rewritten to the VIP");
        assertEquals(CLIENT_IP, int32(out, 30));
        assertEquals(80, port(out, 34));
        assertEquals(40001, port(out, 36));
        assertChecksumsValid(out);
    }

    @Test
    void clientBehindARouterGetsRepliesThroughTheRoutersMac()
    {
        fromClient(tcp(CLIENT_SIDE_MAC, ROUTER_MAC, REMOTE_CLIENT_IP, VIP, 40002, 80, TcpHeader.SYN, 0));
        fromServer(tcp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], REMOTE_CLIENT_IP, 80, 40002,
            TcpHeader.SYN | TcpHeader.ACK, 0));
        assertEquals(ROUTER_MAC, mac(toClient.get(0), 0));
        assertEquals(REMOTE_CLIENT_IP, int32(toClient.get(0), 30));
    }

    @Test
    void roundRobinSpreads300ConnectionsExactly()
    {
        final Map<Integer, Integer> perBackend = new HashMap<>();
        for (int i = 0; i < 300; i++)
        {
            perBackend.merge(int32(connect(20000 + i), 30), 1, Integer::sum);
        }
        assertEquals(Map.of(BACKEND_IPS[0], 100, BACKEND_IPS[1], 100, BACKEND_IPS[2], 100), perBackend);
        assertEquals(300, pipeline.flowCount());
        assertEquals(300, counters.flowsCreated.get());
        for (final int h : handles)
        {
            final int slot = BackendPool.slotOf(h);
            assertEquals(100, stats.newFlows(0, slot), "published new flows");
            assertEquals(100, stats.activeFlows(0, slot), "published active flows");
            assertEquals(100, stats.packets(0, slot), "one SYN each");
        }
    }

    @Test
    void laterPacketsOfAFlowFollowItAndRetransmittedSynIsNotANewFlow()
    {
        final int backend = int32(connect(40003), 30);
        connect(40004); // moves the round robin on
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40003, 80, TcpHeader.SYN, 0));
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40003, 80, TcpHeader.ACK, 500));
        assertEquals(4, toServer.size());
        assertEquals(backend, int32(toServer.get(2), 30));
        assertEquals(backend, int32(toServer.get(3), 30));
        assertEquals(2, counters.flowsCreated.get());
    }

    @Test
    void finFromBothSidesClosesTheFlowOnce()
    {
        connect(40005);
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40005, 80, TcpHeader.ACK, 0));
        assertEquals(FlowTable.TCP_ESTABLISHED, flows.tcpState(flows.find(CLIENT_IP, VIP, 40005, 80, 6)));
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40005, 80, TcpHeader.FIN | TcpHeader.ACK, 0));
        fromServer(tcp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], CLIENT_IP, 80, 40005, TcpHeader.FIN | TcpHeader.ACK, 0));
        assertEquals(0, pool.activeFlows(handles[0]));
        assertEquals(1, counters.flowsClosed.get());
        assertEquals(FlowTable.TCP_CLOSING, flows.tcpState(flows.find(BACKEND_IPS[0], CLIENT_IP, 80, 40005, 6)));
        assertEquals(3, toServer.size());
        assertEquals(1, toClient.size());
    }

    @Test
    void synReusingTheKeyOfAClosedFlowIsANewPick()
    {
        connect(40006);
        fromServer(tcp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], CLIENT_IP, 80, 40006, TcpHeader.RST, 0));
        final byte[] second = connect(40006);
        assertEquals(BACKEND_IPS[1], int32(second, 30), "round robin moved on");
        assertEquals(2, counters.flowsCreated.get());
        assertEquals(1, pool.activeFlows(handles[1]));
        assertEquals(0, pool.activeFlows(handles[0]));
        assertEquals(1, pipeline.flowCount(), "the old flow's entries are gone");
    }

    @Test
    void flowOfABackendThatWentDownIsRepickedOnItsNextPacket()
    {
        connect(40007);
        pool.setHealthy(handles[0], false);
        services.byId(0).scheduler().refresh();
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40007, 80, TcpHeader.ACK, 10));
        assertEquals(2, toServer.size());
        final int newBackend = int32(toServer.get(1), 30);
        assertTrue(newBackend == BACKEND_IPS[1] || newBackend == BACKEND_IPS[2]);
        assertEquals(1, counters.flowsRepicked.get());
        assertEquals(1, pipeline.flowCount());
        assertEquals(0, pool.activeFlows(handles[0]));
        // The backend's old return entry is gone: its late reply matches no flow.
        fromServer(tcp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], CLIENT_IP, 80, 40007, TcpHeader.ACK, 0));
        assertEquals(1, counters.drops(DropReason.NO_FLOW));
    }

    @Test
    void drainedBackendKeepsItsFlowsButGetsNoNewOnesAndMaintCutsThem()
    {
        connect(40008); // backend 0
        pool.setAdminState(handles[0], AdminState.DRAIN);
        services.byId(0).scheduler().refresh();
        for (int i = 0; i < 10; i++)
        {
            assertTrue(int32(connect(41000 + i), 30) != BACKEND_IPS[0]);
        }
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40008, 80, TcpHeader.ACK, 10));
        assertEquals(BACKEND_IPS[0], int32(toServer.get(toServer.size() - 1), 30), "established flow stays");
        pool.setAdminState(handles[0], AdminState.MAINT);
        services.byId(0).scheduler().refresh();
        fromServer(tcp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], CLIENT_IP, 80, 40008, TcpHeader.ACK, 0));
        assertEquals(0, toClient.size(), "maint: no traffic at all from it");
        assertEquals(1, counters.drops(DropReason.NO_BACKEND));
    }

    @Test
    void udpFlowBothWaysAndZeroChecksumStaysZero()
    {
        fromClient(udp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 5000, 53, 33, true));
        byte[] out = toServer.get(0);
        assertEquals(BACKEND_IPS[0], int32(out, 30));
        assertEquals(5353, port(out, 36), "service port 53 maps to backend port 5353");
        assertChecksumsValid(out);

        fromClient(udp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 5000, 53, 20, false));
        out = toServer.get(1);
        assertEquals(0, port(out, 40), "no UDP checksum stays no checksum");

        fromServer(udp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], CLIENT_IP, 5353, 5000, 41, true));
        out = toClient.get(0);
        assertEquals(VIP, int32(out, 26));
        assertEquals(53, port(out, 34), "reply comes from the service port");
        assertChecksumsValid(out);
        assertEquals(1, counters.flowsCreated.get());
    }

    @Test
    void answersArpForVipsAndOwnAddressesOnly()
    {
        int length = ArpPacket.writeRequestFrame(frame, 0, CLIENT_MAC, CLIENT_IP, VIP);
        fromClient(length);
        assertEquals(1, toClient.size());
        final UnsafeBuffer reply = new UnsafeBuffer(toClient.get(0));
        assertEquals(CLIENT_MAC, EthernetHeader.getMac(reply, 0));
        assertEquals(ArpPacket.OP_REPLY, reply.getShort(14 + ArpPacket.OPERATION_OFFSET, BIG_ENDIAN));
        assertEquals(CLIENT_SIDE_MAC, EthernetHeader.getMac(reply, 14 + ArpPacket.SENDER_MAC_OFFSET));
        assertEquals(VIP, reply.getInt(14 + ArpPacket.SENDER_IP_OFFSET, BIG_ENDIAN));
        assertEquals(CLIENT_IP, reply.getInt(14 + ArpPacket.TARGET_IP_OFFSET, BIG_ENDIAN));

        fromClient(ArpPacket.writeRequestFrame(frame, 0, CLIENT_MAC, CLIENT_IP, LB_CLIENT_IP));
        assertEquals(2, toClient.size());
        fromClient(ArpPacket.writeRequestFrame(frame, 0, CLIENT_MAC, CLIENT_IP, 0xC612_000C));
        assertEquals(2, toClient.size(), "no answer for someone else's address");
        fromClient(ArpPacket.writeRequestFrame(frame, 0, CLIENT_MAC, CLIENT_IP, GATEWAY_IP));
        assertEquals(2, toClient.size(), "the gateway address is answered on the server side only");

        length = ArpPacket.writeRequestFrame(frame, 0, BACKEND_MACS[1], BACKEND_IPS[1], GATEWAY_IP);
        fromServer(length);
        assertEquals(1, toServer.size());
        assertEquals(SERVER_SIDE_MAC, EthernetHeader.getMac(new UnsafeBuffer(toServer.get(0)), 14 + ArpPacket.SENDER_MAC_OFFSET));
        assertEquals(1, toControl.size(), "server-side ARP goes to the control thread too");
        assertEquals(BACKEND_IPS[1], new UnsafeBuffer(toControl.get(0)).getInt(14 + ArpPacket.SENDER_IP_OFFSET, BIG_ENDIAN));
        assertEquals(2, counters.arpReplies.get(), "client-side requests answered");
        assertEquals(1, counters.gatewayArpReplies.get(), "the gateway's, apart: its request also went to control");
    }

    @Test
    void answersPingToTheVip()
    {
        final int ip = EthernetHeader.write(frame, 0, CLIENT_SIDE_MAC, CLIENT_MAC, EthernetHeader.ETHER_TYPE_IPV4);
        final int l4 = ip + Ipv4Header.write(frame, ip, 20 + 16, 64, 1, CLIENT_IP, VIP);
        frame.setMemory(l4, 16, (byte)0x5A);
        frame.putShort(l4, (short)(8 << 8), BIG_ENDIAN);
        frame.putShort(l4 + 2, (short)0, BIG_ENDIAN);
        frame.putShort(l4 + 2, (short)Checksums.icmpChecksum(frame, l4, 16), BIG_ENDIAN);
        fromClient(l4 + 16);
        assertEquals(1, toClient.size());
        final byte[] out = toClient.get(0);
        assertEquals(VIP, int32(out, 26));
        assertEquals(CLIENT_IP, int32(out, 30));
        assertEquals(0, out[34], "echo reply");
        assertTrue(ReferenceChecksum.verifies(out, 34, 16), "ICMP checksum");
        assertEquals(1, counters.icmpEchoReplies.get());
    }

    @Test
    void framesForNoServiceOrSomeoneElseAreDroppedByReason()
    {
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40009, 81, TcpHeader.SYN, 0));
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, 0xC612_000C, 40009, 80, TcpHeader.SYN, 0));
        fromClient(tcp(0x02_00_00_00_00_0CL, CLIENT_MAC, CLIENT_IP, VIP, 40009, 80, TcpHeader.SYN, 0));
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40009, 80, TcpHeader.ACK, 0));
        fromServer(tcp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], CLIENT_IP, 80, 40009, TcpHeader.ACK, 0));
        final int length = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40010, 80, TcpHeader.SYN, 0);
        frame.putByte(14, (byte)0x44); // IHL 4
        fromClient(length);
        pipeline.onClientFrame(frame, 0, length, PacketPipeline.RX_TRUNCATED, now);

        assertEquals(1, counters.drops(DropReason.NO_SERVICE));
        assertEquals(2, counters.drops(DropReason.NOT_FOR_US));
        assertEquals(2, counters.drops(DropReason.NO_FLOW));
        assertEquals(1, counters.drops(DropReason.BAD_IHL));
        assertEquals(1, counters.drops(DropReason.SNAPLEN_TRUNCATED));
        assertEquals(7, counters.totalDrops());
        assertEquals(0, toServer.size() + toClient.size());
        assertEquals(0, pipeline.flowCount());
    }

    @Test
    void ttlOneIsDroppedNotForwarded()
    {
        final int length = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40011, 80, TcpHeader.SYN, 0);
        frame.putByte(22, (byte)1);
        frame.putShort(24, (short)0, BIG_ENDIAN);
        frame.putShort(24, (short)Checksums.ipv4HeaderChecksum(frame, 14, 20), BIG_ENDIAN);
        fromClient(length);
        assertEquals(1, counters.drops(DropReason.TTL_EXCEEDED));
        assertEquals(0, toServer.size());
        assertEquals(1, toClient.size(), "time exceeded to the client");
        assertEquals(IcmpHeader.TYPE_TIME_EXCEEDED, toClient.get(0)[34] & 0xFF);
        assertEquals(LB_CLIENT_IP, int32(toClient.get(0), 26));
        assertEquals(1, counters.icmpTimeExceededSent.get());
    }

    @Test
    void idleFlowsExpireAndGiveBackTheirActiveCounts()
    {
        flows.setTimeouts(2_000_000_000L, 5_000_000_000L, 1_000_000_000L, 2_000_000_000L);
        for (int i = 0; i < 30; i++)
        {
            connect(30000 + i);
        }
        fromClient(udp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 5001, 53, 10, true));
        assertEquals(31, pipeline.flowCount());

        now += 1_500_000_000L; // nothing idle long enough yet
        assertEquals(0, pipeline.expire(now, flows.slotCount()));
        // A one-way stream from the backend keeps a UDP flow alive.
        fromServer(udp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], CLIENT_IP, 5353, 5001, 10, true));
        now += 1_000_000_000L;
        for (int pass = 0; pass < 3; pass++)
        {
            pipeline.expire(now, flows.slotCount());
        }
        assertEquals(1, pipeline.flowCount(), "the SYN-only flows are gone, the UDP one lives");
        for (final int h : handles)
        {
            assertEquals(0, pool.activeFlows(h));
        }
        now += 3_000_000_000L;
        for (int pass = 0; pass < 3; pass++)
        {
            pipeline.expire(now, 97); // small slices cover the table too
            pipeline.expire(now, flows.slotCount());
        }
        assertEquals(0, pipeline.flowCount());
        assertEquals(0, flows.size());
        assertEquals(31, counters.flowsExpired.get());
    }

    @Test
    void leastConnectionsSendsNewFlowsAwayFromTheBusyBackend()
    {
        services.byId(0).scheduler(SchedulerKind.LEAST_CONNECTIONS.create(pool));
        // Five long-lived connections held open to backend 0 (the others were down meanwhile).
        pool.setHealthy(handles[1], false);
        pool.setHealthy(handles[2], false);
        for (int i = 0; i < 5; i++)
        {
            assertEquals(BACKEND_IPS[0], int32(connect(42000 + i), 30));
        }
        pool.setHealthy(handles[1], true);
        pool.setHealthy(handles[2], true);
        final Map<Integer, Integer> perBackend = new HashMap<>();
        for (int i = 0; i < 10; i++)
        {
            perBackend.merge(int32(connect(43000 + i), 30), 1, Integer::sum);
        }
        assertEquals(Map.of(BACKEND_IPS[1], 5, BACKEND_IPS[2], 5), perBackend);
        // When backend 0's connections end, it is the least loaded again.
        for (int i = 0; i < 5; i++)
        {
            fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 42000 + i, 80, TcpHeader.RST, 0));
        }
        assertEquals(0, pool.activeFlows(handles[0]));
        assertEquals(BACKEND_IPS[0], int32(connect(44000), 30));
    }

    @Test
    void prefetchReadsOnlyInsideTheFrameAndChangesNothing()
    {
        connect(45000);
        final int length = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 45000, 80, TcpHeader.ACK, 30);
        final byte[] whole = new byte[length];
        frame.getBytes(0, whole);
        final Random random = new Random(7);
        for (int cut = 0; cut <= length; cut++)
        {
            // A buffer that ends exactly at the frame: Agrona's bounds checks (on in tests) catch any read beyond.
            final UnsafeBuffer exact = new UnsafeBuffer(Arrays.copyOf(whole, cut));
            pipeline.prefetch(exact, 0, cut);
            final byte[] garbage = new byte[cut];
            random.nextBytes(garbage);
            if (cut > 13)
            {
                garbage[12] = 0x08;
                garbage[13] = 0x00;
            }
            pipeline.prefetch(new UnsafeBuffer(garbage), 0, cut);
        }
        final int entries = flows.size();
        pipeline.prefetch(frame, 0, length);
        assertEquals(entries, flows.size());
        fromClient(length);
        assertEquals(2, toServer.size(), "the prefetched frame is handled as before");
        assertEquals(0, counters.totalDrops());
    }

    @Test
    void aSecondServiceSharingTheBackendCannotTakeOverAFlowsReturnKey()
    {
        final BackendPool altPool = new BackendPool(16);
        final int h = altPool.add(BACKEND_IPS[0], 80, 1);
        altPool.setMac(h, BACKEND_MACS[0]);
        final int altVip = 0xC612_0065;
        services.add(new Service(2, "alt", altVip, 80, 6, altPool, SchedulerKind.ROUND_ROBIN.create(altPool)));
        connect(46000);                                                  // web -> backend 0 (rr starts there)
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, altVip, 46000, 80, TcpHeader.SYN, 0));
        assertEquals(1, counters.drops(DropReason.RETURN_KEY_IN_USE));
        assertEquals(1, pipeline.flowCount(), "the first flow is intact");
        fromServer(tcp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], CLIENT_IP, 80, 46000, TcpHeader.ACK, 0));
        assertEquals(VIP, int32(toClient.get(0), 26), "replies still come from the first flow's VIP");
    }

    @Test
    void flowsOfADeletedServiceNeverReachAServiceThatReusesItsId()
    {
        connect(47000);
        services.remove(0);
        final BackendPool fresh = new BackendPool(16);
        final int h = fresh.add(BACKEND_IPS[2], 0, 1);
        fresh.setMac(h, BACKEND_MACS[2]);
        // Same id 0 and the same VIP:port, a new epoch.
        services.add(new Service((1 << Service.ID_BITS), "web2", VIP, 80, 6, fresh, SchedulerKind.ROUND_ROBIN.create(fresh)));
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 47000, 80, TcpHeader.ACK, 10));
        assertEquals(2, toServer.size());
        assertEquals(BACKEND_IPS[2], int32(toServer.get(1), 30), "the old flow is re-picked in the new service");
        assertEquals(1, counters.flowsRepicked.get());
        assertEquals(1, fresh.activeFlows(h));
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 47000, 80, TcpHeader.RST, 0));
        assertEquals(0, fresh.activeFlows(h), "counts stay right");
    }

    @Test
    void aHalfClosedConnectionStaysEstablishedUntilTheOtherSideClosesToo()
    {
        connect(48000);
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 48000, 80, TcpHeader.ACK, 0));
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 48000, 80, TcpHeader.FIN | TcpHeader.ACK, 0));
        final int fwd = flows.find(CLIENT_IP, VIP, 48000, 80, 6);
        assertEquals(FlowTable.TCP_ESTABLISHED, flows.tcpState(fwd), "one FIN is half a close");
        assertEquals(1, pool.activeFlows(handles[0]), "still an active connection");
        for (int i = 0; i < 5; i++)
        {
            fromServer(tcp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], CLIENT_IP, 80, 48000, TcpHeader.ACK, 1000));
        }
        assertEquals(5, toClient.size(), "the server's data still flows to the client");
        fromServer(tcp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], CLIENT_IP, 80, 48000, TcpHeader.FIN | TcpHeader.ACK, 0));
        assertEquals(FlowTable.TCP_CLOSING, flows.tcpState(flows.find(CLIENT_IP, VIP, 48000, 80, 6)));
        assertEquals(0, pool.activeFlows(handles[0]));
        assertEquals(1, counters.flowsClosed.get());
    }

    @Test
    void aRouteCarriesTrafficForItsPrefixBothWaysAndVipsStayServices()
    {
        final RouteForwarder route = new RouteForwarder(0xC6130000, 16, SpreadPolicy.LEAST_FLOWS, 1_000_000L, false, 64, 1);
        route.nextHopHealth(route.group().add(BACKEND_IPS[1]), true, BACKEND_MACS[1]);
        pipeline.routes(new RouteForwarder[] {route});
        final int remote = 0xC6130005; // 198.19.0.5, behind the next hop

        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, remote, 49000, 443, TcpHeader.SYN, 0));
        assertEquals(1, toServer.size());
        assertEquals(BACKEND_MACS[1], mac(toServer.get(0), 0), "to the next hop");
        assertEquals(SERVER_SIDE_MAC, mac(toServer.get(0), 6));
        assertEquals(remote, int32(toServer.get(0), 30), "no address change");
        assertEquals(63, toServer.get(0)[22] & 0xFF, "TTL - 1");

        fromServer(tcp(SERVER_SIDE_MAC, BACKEND_MACS[1], remote, CLIENT_IP, 443, 49000, TcpHeader.SYN | TcpHeader.ACK, 0));
        assertEquals(1, toClient.size());
        assertEquals(CLIENT_MAC, mac(toClient.get(0), 0), "back to the client");
        assertEquals(CLIENT_SIDE_MAC, mac(toClient.get(0), 6));
        assertEquals(remote, int32(toClient.get(0), 26), "still from the remote address");
        assertEquals(1, route.group().packets(0));
        assertEquals(1, route.group().activeFlows(0));

        // The VIP is still a service, and a prefix no route holds is not for us.
        connect(49001);
        assertEquals(BACKEND_IPS[0], int32(toServer.get(toServer.size() - 1), 30));
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, 0xC6140005, 49002, 443, TcpHeader.SYN, 0));
        assertEquals(1, counters.drops(DropReason.NOT_FOR_US));
        route.nextHopHealth(0, false, 0);
        fromClient(tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, remote, 49003, 443, TcpHeader.SYN, 0));
        assertEquals(1, counters.drops(DropReason.NO_NEXT_HOP));
    }

    @Test
    void aRoutedPacketWhoseTtlRunsOutGetsTimeExceededFromLbsAddressOnItsSideRateLimited()
    {
        final RouteForwarder route = new RouteForwarder(0xC6130000, 16, SpreadPolicy.FLOW_HASH, 1_000_000L, false, 64, 1);
        route.nextHopHealth(route.group().add(BACKEND_IPS[1]), true, BACKEND_MACS[1]);
        pipeline.routes(new RouteForwarder[] {route});
        final int remote = 0xC6130005;

        final int length = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, remote, 49100, 443, TcpHeader.SYN, 0);
        setTtl(1);
        final byte[] offending = new byte[length];
        frame.getBytes(0, offending);
        fromClient(length);
        assertEquals(0, toServer.size());
        assertEquals(1, counters.drops(DropReason.TTL_EXCEEDED));
        assertEquals(1, toClient.size());
        final byte[] error = toClient.get(0);
        final UnsafeBuffer e = new UnsafeBuffer(error);
        assertEquals(CLIENT_MAC, mac(error, 0), "to the sender's MAC");
        assertEquals(CLIENT_SIDE_MAC, mac(error, 6));
        assertEquals(1, error[23], "ICMP");
        assertEquals(LB_CLIENT_IP, int32(error, 26), "from lb's client-side address");
        assertEquals(CLIENT_IP, int32(error, 30));
        assertEquals(0, verifyIp(e), "IPv4 checksum valid");
        assertEquals(IcmpHeader.TYPE_TIME_EXCEEDED, error[34] & 0xFF);
        assertEquals(0, error[35], "code 0: TTL exceeded in transit");
        assertEquals(14 + 20 + 8 + 20 + 8, error.length, "the offending IP header and 8 bytes quoted");
        for (int b = 0; b < 28; b++)
        {
            assertEquals(offending[14 + b], error[42 + b], "quoted byte " + b);
        }
        assertEquals(0xFFFF, Checksums.fold(Checksums.sum(e, 34, error.length - 34)), "ICMP checksum valid");
        assertEquals(1, counters.icmpTimeExceededSent.get());

        // Never an error about an error; and a flood gets at most the burst at once.
        final int icmpLength = udpAsIcmpError(remote);
        fromClient(icmpLength);
        assertEquals(1, toClient.size(), "no error about an ICMP error");
        for (int i = 0; i < 200; i++)
        {
            tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, remote, 49101, 443, TcpHeader.SYN, 0);
            setTtl(0);
            fromClient(length);
        }
        assertEquals(PacketPipeline.ICMP_ERROR_BURST, counters.icmpTimeExceededSent.get(), "rate limited");
        assertEquals(202, counters.drops(DropReason.TTL_EXCEEDED), "every one counted as a drop");
    }

    private static byte[] copyOf(final UnsafeBuffer buffer, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(0, bytes);
        return bytes;
    }

    private void setTtl(final int ttl)
    {
        frame.putByte(22, (byte)ttl);
        frame.putShort(24, (short)0, BIG_ENDIAN);
        frame.putShort(24, (short)Checksums.ipv4HeaderChecksum(frame, 14, 20), BIG_ENDIAN);
    }

    private static int verifyIp(final UnsafeBuffer e)
    {
        return Checksums.fold(Checksums.sum(e, 14, 20)) == 0xFFFF ? 0 : 1;
    }

    /** An ICMP destination-unreachable (an error) with TTL 1 toward the remote address. */
    private int udpAsIcmpError(final int dst)
    {
        final int ip = EthernetHeader.write(frame, 0, CLIENT_SIDE_MAC, CLIENT_MAC, EthernetHeader.ETHER_TYPE_IPV4);
        final int l4 = ip + Ipv4Header.write(frame, ip, 20 + 8 + 28, 1, 1, CLIENT_IP, dst);
        frame.setMemory(l4, 36, (byte)0);
        frame.putByte(l4, (byte)IcmpHeader.TYPE_DESTINATION_UNREACHABLE);
        frame.putByte(l4 + 1, (byte)3);
        frame.putShort(l4 + 2, (short)Checksums.icmpChecksum(frame, l4, 36), BIG_ENDIAN);
        return l4 + 36;
    }

    @Test
    void taggedFramesAreDroppedAndCountedWhetherTheKernelTookTheTagOutOrNot()
    {
        // The kernel moved the tag into the ring's metadata (how veth and most NICs deliver it).
        int length = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40100, 80, TcpHeader.SYN, 0);
        pipeline.onClientFrame(frame, 0, length, PacketPipeline.RX_VLAN, now);
        pipeline.onServerFrame(frame, 0, length, PacketPipeline.RX_VLAN, now);
        // The tag still in the frame: VLAN 7 in front of the same SYN.
        length = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40101, 80, TcpHeader.SYN, 0);
        final byte[] untagged = new byte[length];
        frame.getBytes(0, untagged);
        frame.putShort(12, (short)0x8100, BIG_ENDIAN);
        frame.putShort(14, (short)7, BIG_ENDIAN);
        frame.putBytes(16, untagged, 12, length - 12);
        fromClient(length + 4);
        fromServer(length + 4);

        assertEquals(4, counters.drops(DropReason.VLAN_TAGGED));
        assertEquals(4, counters.totalDrops());
        assertEquals(0, toServer.size() + toClient.size() + toControl.size(), "nothing forwarded or answered");
        assertEquals(0, pipeline.flowCount());
    }

    @Test
    void aBackendsAnswerToATcpCheckGoesToControlAndNothingElse()
    {
        final int checkPort = TcpCheckFrames.FIRST_SOURCE_PORT + 7;
        final int length = tcp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], GATEWAY_IP, 80, checkPort,
            TcpHeader.SYN | TcpHeader.ACK, 0);
        fromServer(length);
        assertEquals(1, toControl.size(), "the SYN-ACK reaches the control thread");
        assertArrayEquals(Arrays.copyOf(frame.byteArray(), length), toControl.get(0), "as it was received");
        assertEquals(1, counters.healthCheckRepliesToControl.get());

        fromServer(tcp(SERVER_SIDE_MAC, BACKEND_MACS[1], BACKEND_IPS[1], GATEWAY_IP, 80, checkPort, TcpHeader.RST | TcpHeader.ACK, 0));
        assertEquals(2, toControl.size(), "an RST too");

        // Outside the range, or to another MAC, it is no check's answer.
        fromServer(tcp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], GATEWAY_IP, 80, TcpCheckFrames.FIRST_SOURCE_PORT - 1,
            TcpHeader.SYN | TcpHeader.ACK, 0));
        fromServer(tcp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], GATEWAY_IP, 80,
            TcpCheckFrames.FIRST_SOURCE_PORT + TcpCheckFrames.SOURCE_PORT_COUNT, TcpHeader.SYN | TcpHeader.ACK, 0));
        fromServer(tcp(0x02_00_00_00_09_09L, BACKEND_MACS[0], BACKEND_IPS[0], GATEWAY_IP, 80, checkPort,
            TcpHeader.SYN | TcpHeader.ACK, 0));
        assertEquals(2, toControl.size());
        assertEquals(2, counters.drops(DropReason.NO_FLOW), "outside the range: no flow");
        assertEquals(1, counters.drops(DropReason.NOT_FOR_US), "another MAC");
        assertEquals(0, toServer.size() + toClient.size(), "nothing forwarded or answered");
        assertEquals(2, counters.healthCheckRepliesToControl.get());
    }

    @Test
    void aTcpCheckAnswerTheControlRingRefusesIsCounted()
    {
        final DataplaneCounters c = new DataplaneCounters(countersManager, 99);
        final PacketPipeline full = new PacketPipeline(services, new FlowTable(1024), c, new BackendStatsTable(),
            capture(toClient), capture(toServer), refusing(DropReason.CONTROL_RING_FULL), CLIENT_SIDE_MAC, SERVER_SIDE_MAC,
            LB_CLIENT_IP, GATEWAY_IP);
        full.onServerFrame(frame, 0, tcp(SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], GATEWAY_IP, 80,
            TcpCheckFrames.FIRST_SOURCE_PORT, TcpHeader.SYN | TcpHeader.ACK, 0), 0, now);
        assertEquals(1, c.drops(DropReason.CONTROL_RING_FULL));
        assertEquals(0, c.healthCheckRepliesToControl.get());
    }

    /**
     * Every frame received is accounted for: forwarded (tx), answered (ARP and ping replies),
     * dropped under a named reason, or handed to the control thread; what lb sends of its own
     * (ICMP errors, the gateway's ARP replies) is counted apart; ICMP errors it relays are forwarded frames. Checked
     * over 200,000 frames, valid and mutated (bytes flipped, cut short), in both directions.
     */
    @Test
    void everyFrameReceivedIsSentDroppedOrHandedToControl()
    {
        final RouteForwarder route = new RouteForwarder(0xC6130000, 16, SpreadPolicy.LEAST_FLOWS, 1_000_000L, true, 256, 1);
        route.nextHopHealth(route.group().add(BACKEND_IPS[1]), true, BACKEND_MACS[1]);
        pipeline.routes(new RouteForwarder[] {route});
        // IPv6 in the mix: a NAT66 service on 2001:2::100:80 with one backend 2001:2:0:1::11.
        final Ipv6AliasTable aliases = new Ipv6AliasTable();
        final long net6 = 0x2001_0002_0000_0000L;
        final long servers6 = 0x2001_0002_0000_0001L;
        final int vip6 = Ipv6AliasTable.preferredAlias(net6, 0x100);
        final int backend6 = Ipv6AliasTable.preferredAlias(servers6, 0x11);
        assertTrue(aliases.put(vip6, net6, 0x100) && aliases.put(backend6, servers6, 0x11));
        final BackendPool pool6 = new BackendPool(16);
        pool6.setMac(pool6.add(backend6, 0, 1), BACKEND_MACS[0]);
        services.add(new Service(2, "web6", vip6, 80, 6, pool6, SchedulerKind.ROUND_ROBIN.create(pool6)));
        pipeline.ipv6(FlowTable.ipv6(1024, FullPolicy.EVICT_STALEST, null), aliases, 0, 0);
        final Random random = new Random(12);
        final UnsafeBuffer template = new UnsafeBuffer(new byte[2048]);
        for (int i = 0; i < 200_000; i++)
        {
            final boolean client = random.nextBoolean();
            int length;
            switch (random.nextInt(12))
            {
                case 10 -> length = TestFrames.ipv6L4(frame, CLIENT_SIDE_MAC, CLIENT_MAC, net6, 0x11, net6, 0x100, 6,
                    40000 + random.nextInt(64), 80, random.nextInt(64), random.nextInt(100));
                case 11 -> length = TestFrames.ipv6L4(frame, SERVER_SIDE_MAC, BACKEND_MACS[0], servers6, 0x11, net6, 0x11, 6,
                    80, 40000 + random.nextInt(64), random.nextInt(64), random.nextInt(100));
                // A backend's answer to a TCP health check, or a frame just outside the check ports.
                case 9 -> length = tcp(SERVER_SIDE_MAC, BACKEND_MACS[random.nextInt(3)], BACKEND_IPS[random.nextInt(3)],
                    GATEWAY_IP, 80, TcpCheckFrames.FIRST_SOURCE_PORT - 2 + random.nextInt(8), random.nextInt(64), 0);
                case 0 -> length = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40000 + random.nextInt(64), 80,
                    random.nextInt(64), random.nextInt(100));
                case 1 -> length = tcp(SERVER_SIDE_MAC, BACKEND_MACS[random.nextInt(3)], BACKEND_IPS[random.nextInt(3)],
                    CLIENT_IP, 80, 40000 + random.nextInt(64), random.nextInt(64), random.nextInt(100));
                case 2 -> length = udp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 5000 + random.nextInt(8), 53,
                    random.nextInt(40), random.nextBoolean());
                case 3 -> length = ArpPacket.writeRequestFrame(frame, 0, CLIENT_MAC, CLIENT_IP,
                    new int[] {VIP, LB_CLIENT_IP, GATEWAY_IP, BACKEND_IPS[0], 0xC6120063}[random.nextInt(5)]);
                case 4 -> length = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, 0xC6130000 + random.nextInt(4),
                    41000 + random.nextInt(32), 443, random.nextInt(64), random.nextInt(50));
                case 5 -> length = tcp(SERVER_SIDE_MAC, BACKEND_MACS[1], 0xC6130000 + random.nextInt(4), CLIENT_IP,
                    443, 41000 + random.nextInt(32), random.nextInt(64), random.nextInt(50));
                // ICMP errors about the flows above: a router's frag-needed about lb's packet to a
                // client (quoting 8 bytes of TCP, or more), a backend's port unreachable about lb's UDP datagram.
                case 7 ->
                {
                    tcp(CLIENT_SIDE_MAC, CLIENT_SIDE_MAC, VIP, CLIENT_IP, 80, 40000 + random.nextInt(64), TcpHeader.ACK, 40);
                    length = TestFrames.icmpError(frame, CLIENT_SIDE_MAC, ROUTER_MAC, 0xC6120002, VIP,
                        IcmpHeader.TYPE_DESTINATION_UNREACHABLE, IcmpHeader.CODE_FRAGMENTATION_NEEDED, 1400,
                        copyOf(frame, 14 + 60), 20 + (random.nextBoolean() ? 8 : 40));
                }
                case 8 ->
                {
                    udp(BACKEND_MACS[0], SERVER_SIDE_MAC, CLIENT_IP, BACKEND_IPS[0], 5000 + random.nextInt(8), 5353, 12, true);
                    length = TestFrames.icmpError(frame, SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], CLIENT_IP,
                        IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 3, 0, copyOf(frame, 14 + 40), 20 + 20);
                }
                default ->
                {
                    length = udp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 7, 53, 8, true);
                    frame.putByte(23, (byte)1); // ICMP (echo request when the bytes below say so)
                    frame.putByte(34, (byte)(random.nextBoolean() ? 8 : random.nextInt(256)));
                }
            }
            length = TestFrames.mutate(frame, length, random);
            template.putBytes(0, frame, 0, length);
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
        final long rx = counters.rxFrames();
        final long forwarded = counters.txFrames();
        final long answered = counters.answered();
        final long madeUp = counters.madeUp();
        assertTrue(counters.icmpErrorsForwardedToServer.get() > 1000 && counters.icmpErrorsForwardedToClient.get() > 1000,
            "the corpus reaches both relays: " + counters.icmpErrorsForwardedToServer.get() + " and " +
            counters.icmpErrorsForwardedToClient.get());
        final String figures = "forwarded " + forwarded + ", answered " + answered + ", made up " + madeUp + ", drops " +
            counters.framesDropped() + ", ARP to control " + counters.arpToControl.get() + ", check answers to control " +
            counters.healthCheckRepliesToControl.get();
        assertEquals(200_000, rx);
        assertEquals(toClient.size() + toServer.size(), forwarded + answered + madeUp, "what the sinks took: " + figures);
        assertEquals(toControl.size(), counters.toControl());
        assertTrue(counters.healthCheckRepliesToControl.get() > 1000, figures);
        assertEquals(rx, forwarded + answered + counters.framesDropped() + counters.toControl(),
            "rx = forwarded + answered + drops + to control: " + figures);
        assertEquals(0, counters.unaccounted(), figures);
    }
}
