package lb.dataplane.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import lb.dataplane.checksum.ReferenceChecksum;
import lb.dataplane.flow.FlowTable;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.IcmpHeader;
import lb.dataplane.packet.TcpHeader;
import lb.dataplane.rewrite.IpipEncap;
import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.MaglevScheduler;
import lb.dataplane.sched.SchedulerKind;
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
import static lb.dataplane.pipeline.PacketPipelineTest.capture;
import static lb.dataplane.pipeline.PacketPipelineTest.int32;
import static lb.dataplane.pipeline.PacketPipelineTest.mac;
import static lb.dataplane.pipeline.PacketPipelineTest.port;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Golden-packet tests of the one-way modes: direct server return (only the MACs change) and
 * IP-in-IP (the client's packet, byte for byte, behind a valid outer header), their TCP state
 * from the client's segments alone, and flow recovery by the consistent hash.
 */
class OneWayModesTest extends PipelineFixture
{
    static final int DSR_PORT = 80;
    static final int IPIP_PORT = 81;
    static final int DSR_RR_PORT = 82;

    final PacketPipeline pipeline;
    final BackendPool dsrPool;
    final long now = 1_000_000_000L;

    OneWayModesTest()
    {
        dsrPool = pool(false);
        services.add(new Service(0, "dsr", VIP, DSR_PORT, 6, dsrPool,
            new MaglevScheduler(dsrPool, MaglevScheduler.DEFAULT_TABLE_SIZE), ForwardingMode.DSR));
        final BackendPool ipipPool = pool(false);
        services.add(new Service(1, "ipip", VIP, IPIP_PORT, 6, ipipPool,
            new MaglevScheduler(ipipPool, MaglevScheduler.DEFAULT_TABLE_SIZE), ForwardingMode.IPIP));
        final BackendPool rrPool = pool(false);
        services.add(new Service(2, "dsr-rr", VIP, DSR_RR_PORT, 6, rrPool,
            SchedulerKind.ROUND_ROBIN.create(rrPool), ForwardingMode.DSR));
        pipeline = new PacketPipeline(services, flows, counters, new BackendStatsTable(), capture(toClient),
            capture(toServer), capture(new ArrayList<>()), CLIENT_SIDE_MAC, SERVER_SIDE_MAC, LB_CLIENT_IP, GATEWAY_IP)
            .serverMtu(1500);
    }

    static BackendPool pool(final boolean reversed)
    {
        final BackendPool pool = new BackendPool(64);
        for (int n = 0; n < 3; n++)
        {
            final int i = reversed ? 2 - n : n;
            pool.setMac(pool.add(BACKEND_IPS[i], 0, 1), BACKEND_MACS[i]);
        }
        return pool;
    }

    int tcp(final int sport, final int dport, final int flags, final int payload)
    {
        return TestFrames.tcp(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, sport, dport, flags, payload);
    }

    byte[] copy(final int length)
    {
        final byte[] bytes = new byte[length];
        frame.getBytes(0, bytes);
        return bytes;
    }

    byte[] forward(final int length)
    {
        final int sent = toServer.size();
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(sent + 1, toServer.size(), "forwarded toward a backend");
        return toServer.get(sent);
    }

    static int backendIndex(final long mac)
    {
        for (int i = 0; i < BACKEND_MACS.length; i++)
        {
            if (BACKEND_MACS[i] == mac)
            {
                return i;
            }
        }
        throw new AssertionError("not a backend MAC: " + Long.toHexString(mac));
    }

    long counter(final String label)
    {
        final long[] value = {-1};
        countersManager.forEach((id, typeId, key, l) ->
        {
            if (l.equals(label + " worker=0"))
            {
                value[0] = countersManager.getCounterValue(id);
            }
        });
        return value[0];
    }

    @Test
    void dsrChangesOnlyTheMacAddresses()
    {
        final int length = tcp(40000, DSR_PORT, TcpHeader.SYN, 100);
        final byte[] original = copy(length);
        final byte[] out = forward(length);

        assertEquals(length, out.length);
        final int backend = backendIndex(mac(out, 0));
        assertEquals(SERVER_SIDE_MAC, mac(out, 6), "source MAC: lb's server side");
        assertArrayEquals(Arrays.copyOfRange(original, 12, length), Arrays.copyOfRange(out, 12, length),
            "IP header (TTL included), ports, payload and checksums as the client sent them");
        assertEquals(1, pipeline.flowCount());
        assertEquals(1, flows.size(), "one entry: the reply does not come back through lb");
        assertEquals(1, dsrPool.activeFlows(dsrPool.eligibleHandle(0)) + dsrPool.activeFlows(dsrPool.eligibleHandle(1)) +
            dsrPool.activeFlows(dsrPool.eligibleHandle(2)));
        assertTrue(backend >= 0);
    }

    @Test
    void laterSegmentsFollowTheFlowAndTheClientsFinClosesIt()
    {
        final int backend = backendIndex(mac(forward(tcp(40001, DSR_PORT, TcpHeader.SYN, 0)), 0));
        for (int i = 0; i < 5; i++)
        {
            assertEquals(backend, backendIndex(mac(forward(tcp(40001, DSR_PORT, TcpHeader.ACK, 10)), 0)));
        }
        final int slot = flows.find(CLIENT_IP, VIP, 40001, DSR_PORT, 6);
        assertEquals(FlowTable.TCP_ESTABLISHED, flows.tcpState(slot));

        forward(tcp(40001, DSR_PORT, TcpHeader.FIN | TcpHeader.ACK, 0));
        assertEquals(FlowTable.TCP_CLOSING, flows.tcpState(flows.find(CLIENT_IP, VIP, 40001, DSR_PORT, 6)),
            "lb never sees the backend's FIN: the client's closes the flow");
        assertEquals(1, counter("flows_closed"));
        final BackendPool pool = dsrPool;
        int active = 0;
        for (int i = 0; i < pool.eligibleCount(); i++)
        {
            active += pool.activeFlows(pool.eligibleHandle(i));
        }
        assertEquals(0, active, "a closed flow no longer counts for least connections");
        // The client's last ACK still reaches the backend.
        assertEquals(backend, backendIndex(mac(forward(tcp(40001, DSR_PORT, TcpHeader.ACK, 0)), 0)));
    }

    @Test
    void aMidFlowSegmentIsRecoveredToTheBackendEveryInstanceNames()
    {
        // A second pipeline stands for another lb instance: same backends, added in another order.
        final ServiceTable otherServices = new ServiceTable();
        final BackendPool otherPool = pool(true);
        otherServices.add(new Service(0, "dsr", VIP, DSR_PORT, 6, otherPool,
            new MaglevScheduler(otherPool, MaglevScheduler.DEFAULT_TABLE_SIZE), ForwardingMode.DSR));
        final List<byte[]> otherOut = new ArrayList<>();
        final PacketPipeline other = new PacketPipeline(otherServices, new FlowTable(1024),
            new DataplaneCounters(countersManager, 1), new BackendStatsTable(), capture(new ArrayList<>()),
            capture(otherOut), capture(new ArrayList<>()), CLIENT_SIDE_MAC, SERVER_SIDE_MAC, LB_CLIENT_IP, GATEWAY_IP);

        for (int p = 0; p < 200; p++)
        {
            other.onClientFrame(frame, 0, tcp(41000 + p, DSR_PORT, TcpHeader.SYN, 0), 0, now);
            final int started = backendIndex(mac(otherOut.get(otherOut.size() - 1), 0));
            // The connection moves to this instance in mid-flight: no SYN, no flow entry here.
            final int length = tcp(41000 + p, DSR_PORT, TcpHeader.ACK | TcpHeader.PSH, 20);
            final byte[] original = copy(length);
            final byte[] out = forward(length);
            assertEquals(started, backendIndex(mac(out, 0)), "port " + (41000 + p));
            assertArrayEquals(Arrays.copyOfRange(original, 12, length), Arrays.copyOfRange(out, 12, length));
        }
        assertEquals(200, counter("flows_recovered"));
        assertEquals(200, pipeline.flowCount());
        // One lone segment leaves the flow unconfirmed (a full table may evict it); its next one establishes it.
        assertEquals(FlowTable.TCP_SYN_SEEN, flows.tcpState(flows.find(CLIENT_IP, VIP, 41000, DSR_PORT, 6)));
        forward(tcp(41000, DSR_PORT, TcpHeader.ACK, 0));
        assertEquals(FlowTable.TCP_ESTABLISHED, flows.tcpState(flows.find(CLIENT_IP, VIP, 41000, DSR_PORT, 6)));
        assertEquals(200, counter("flows_recovered"));
    }

    @Test
    void withoutAConsistentSchedulerAMidFlowSegmentIsDropped()
    {
        pipeline.onClientFrame(frame, 0, tcp(42000, DSR_RR_PORT, TcpHeader.ACK, 0), 0, now);
        assertEquals(0, toServer.size());
        assertEquals(1, counters.drops(DropReason.NO_FLOW));
        assertEquals(0, counter("flows_recovered"));
    }

    @Test
    void oneWayFlowsExpireAndReleaseTheirBackend()
    {
        flows.setTimeouts(1_000_000L, 1_000_000L, 1_000_000L, 1_000_000L);
        for (int p = 0; p < 50; p++)
        {
            forward(tcp(43000 + p, DSR_PORT, TcpHeader.SYN, 0));
        }
        assertEquals(50, pipeline.flowCount());
        final long later = now + 1_000_000_000L;
        for (int i = 0; i < 10 && pipeline.flowCount() > 0; i++)
        {
            pipeline.expire(later, 1 << 16);
        }
        assertEquals(0, pipeline.flowCount());
        assertEquals(0, flows.size());
        assertEquals(50, counter("flows_expired"));
        for (int i = 0; i < dsrPool.eligibleCount(); i++)
        {
            assertEquals(0, dsrPool.activeFlows(dsrPool.eligibleHandle(i)));
        }
    }

    @Test
    void ipipWrapsTheClientsPacketUnchangedInAValidOuterHeader()
    {
        final int length = tcp(44000, IPIP_PORT, TcpHeader.SYN, 200);
        final byte[] original = copy(length);
        final byte[] out = forward(length);

        assertEquals(length + IpipEncap.OVERHEAD, out.length);
        final int backend = backendIndex(mac(out, 0));
        assertEquals(SERVER_SIDE_MAC, mac(out, 6));
        assertEquals(0x0800, port(out, 12));
        assertEquals(0x45, out[14] & 0xFF);
        assertEquals(length - 14 + 20, port(out, 16), "outer total length");
        assertEquals(0x4000, port(out, 20), "don't fragment, offset 0");
        assertEquals(64, out[22] & 0xFF, "outer TTL");
        assertEquals(IpipEncap.PROTOCOL_IPIP, out[23] & 0xFF);
        assertEquals(GATEWAY_IP, int32(out, 26), "outer source: lb's gateway address");
        assertEquals(BACKEND_IPS[backend], int32(out, 30), "outer destination: the backend");
        assertEquals(ReferenceChecksum.ipv4HeaderChecksum(out, 14), port(out, 24), "outer header checksum");
        assertArrayEquals(Arrays.copyOfRange(original, 14, length), Arrays.copyOfRange(out, 34, out.length),
            "the inner packet as the client sent it");
        assertEquals(1, flows.size());
    }

    @Test
    void aPacketTooBigForTheTunnelGetsFragmentationNeeded()
    {
        // 1480 bytes of IP: 1500 with the outer header fits; 1481 does not.
        final int fits = tcp(45000, IPIP_PORT, TcpHeader.SYN, 1480 - 40);
        assertEquals(1514, forward(fits).length);

        final int length = tcp(45000, IPIP_PORT, TcpHeader.ACK, 1481 - 40);
        final byte[] original = copy(length);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(1, toServer.size(), "the oversize packet is not sent");
        assertEquals(1, counters.drops(DropReason.TUNNEL_TOO_BIG));
        assertEquals(1, counter("icmp_frag_needed_sent"));
        assertEquals(1, toClient.size());
        final byte[] error = toClient.get(0);
        assertEquals(CLIENT_MAC, mac(error, 0));
        assertEquals(CLIENT_SIDE_MAC, mac(error, 6));
        assertEquals(LB_CLIENT_IP, int32(error, 26));
        assertEquals(CLIENT_IP, int32(error, 30));
        assertEquals(1, error[23] & 0xFF, "ICMP");
        assertEquals(IcmpHeader.TYPE_DESTINATION_UNREACHABLE, error[34] & 0xFF);
        assertEquals(IcmpHeader.CODE_FRAGMENTATION_NEEDED, error[35] & 0xFF);
        assertEquals(1480, port(error, 40), "next-hop MTU: the server side's minus the outer header");
        assertArrayEquals(Arrays.copyOfRange(original, 14, 14 + 28), Arrays.copyOfRange(error, 42, 42 + 28),
            "quotes the offending IP header and 8 bytes");
        assertEquals(14 + 20 + 8 + 28, error.length);
        assertEquals(ReferenceChecksum.ipv4HeaderChecksum(error, 14), port(error, 24));
        assertTrue(ReferenceChecksum.verifies(error, 34, error.length - 34), "ICMP checksum");
    }

    @Test
    void aGsoSuperFrameForATunnelIsCountedNotSent()
    {
        final int length = tcp(46000, IPIP_PORT, TcpHeader.SYN, 0);
        pipeline.onClientFrame(frame, 0, length, PacketPipeline.RX_VNET | PacketPipeline.RX_GSO, now);
        assertEquals(0, toServer.size());
        assertEquals(1, counters.drops(DropReason.TUNNEL_GSO));
    }

    /**
     * A router's fragmentation-needed about a backend's reply (VIP -> client, which went around
     * lb) is addressed to the VIP and so reaches lb: it goes on to the flow's backend as the
     * flow's packets do, which hold the VIP and recognise their own packet in the quote.
     */
    @Test
    void anErrorAboutABackendsDirectReplyReachesThatBackendByMacOrThroughTheTunnel()
    {
        for (final int servicePort : new int[] {DSR_PORT, IPIP_PORT})
        {
            final byte[] forwarded = forward(tcp(47000, servicePort, TcpHeader.SYN, 0));
            // The backend's reply, as it left for the client from the VIP (not through lb).
            final byte[] reply = copy(TestFrames.tcp(frame, CLIENT_MAC, BACKEND_MACS[0], VIP, CLIENT_IP, servicePort, 47000,
                TcpHeader.SYN | TcpHeader.ACK, 60));
            final int length = TestFrames.icmpError(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP,
                IcmpHeader.TYPE_DESTINATION_UNREACHABLE, IcmpHeader.CODE_FRAGMENTATION_NEEDED, 1400, reply, 20 + 28);
            final byte[] error = copy(length);
            final byte[] out = forward(length);
            if (servicePort == DSR_PORT)
            {
                assertEquals(mac(forwarded, 0), mac(out, 0), "to the flow's backend");
                assertEquals(SERVER_SIDE_MAC, mac(out, 6));
                assertArrayEquals(Arrays.copyOfRange(error, 12, length), Arrays.copyOfRange(out, 12, length),
                    "the error as it came: the backend holds the VIP");
            }
            else
            {
                assertEquals(mac(forwarded, 0), mac(out, 0));
                assertEquals(int32(forwarded, 30), int32(out, 30), "tunnelled to the flow's backend");
                assertEquals(IpipEncap.PROTOCOL_IPIP, out[23] & 0xFF);
                assertArrayEquals(Arrays.copyOfRange(error, 14, length), Arrays.copyOfRange(out, 34, out.length),
                    "the error inside, as it came");
            }
        }
        assertEquals(2, counter("icmp_errors_forwarded_to_server"));
        assertEquals(0, counters.totalDrops());
        assertEquals(0, toClient.size(), "no fragmentation needed about an ICMP error");
    }
}
