package lb.control.health;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import lb.control.config.IpAddresses;
import lb.dataplane.io.InterfaceInfo;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.Icmpv6Header;
import lb.dataplane.packet.Ipv6Header;
import lb.dataplane.packet.NeighborDiscovery;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * NDP probes of IPv6 backends, end to end through the frames: the prober's probe becomes a
 * neighbour solicitation on the wire, the backend's advertisement is read back as its MAC, and the
 * prober's timing (one cycle, retries) is the one of ARP probes.
 */
class NeighborProbesTest
{
    private static final long MS = 1_000_000L;
    private static final long SERVER_MAC = 0x02_00_00_00_01_01L;
    private static final int GATEWAY = 0xC6120101;
    private static final int GATEWAY6 = IpAddresses.parse("2001:2:0:1::1");
    private static final int B1 = IpAddresses.parse("2001:2:0:1::11");
    private static final int B2 = IpAddresses.parse("2001:2:0:1::12");
    private static final int B3 = IpAddresses.parse("2001:2:0:1::13");

    private final NeighborProbes frames = new NeighborProbes(SERVER_MAC, GATEWAY, GATEWAY6);
    private final UnsafeBuffer wire = new UnsafeBuffer(new byte[NeighborProbes.MAX_FRAME_LENGTH]);
    private final UnsafeBuffer answer = new UnsafeBuffer(new byte[256]);
    private final NeighborDiscovery parsed = new NeighborDiscovery();
    private final List<long[]> probes = new ArrayList<>();   // {time, ip}
    private final List<String> changes = new ArrayList<>();
    private long clock;

    private static long macOf(final int backend)
    {
        return 0x02_00_00_00_02_00L | (IpAddresses.low(backend) & 0xFF);
    }

    /** The prober's sender: writes the real probe frame and checks it is the solicitation RFC 4861 wants. */
    private HealthProber prober(final long intervalMs, final long timeoutMs, final int retries)
    {
        return new HealthProber(new int[] {B1, B2, B3}, intervalMs * MS, timeoutMs * MS, retries,
            ip ->
            {
                final int length = frames.writeProbe(wire, 0, ip);
                assertSolicitation(length, ip);
                probes.add(new long[] {clock, ip});
            },
            (ip, up, mac, rtt) -> changes.add(IpAddresses.format(ip) + (up ? " up " + InterfaceInfo.formatMac(mac) : " down")),
            line -> { });
    }

    private void assertSolicitation(final int length, final int target)
    {
        final int ip = EthernetHeader.HEADER_LENGTH;
        assertEquals(86, length, "Ethernet, IPv6, the solicitation and its source link-layer address option");
        assertTrue(NeighborProbes.isIpv6(wire, 0, length));
        final long group = NeighborDiscovery.solicitedNodeLow(IpAddresses.low(target));
        assertEquals(NeighborDiscovery.multicastMac(group), EthernetHeader.getMac(wire, EthernetHeader.DESTINATION_OFFSET));
        assertEquals(SERVER_MAC, EthernetHeader.getMac(wire, EthernetHeader.SOURCE_OFFSET));
        assertEquals(IpAddresses.high(GATEWAY6), Ipv6Header.getAddressHigh(wire, ip + Ipv6Header.SOURCE_OFFSET));
        assertEquals(IpAddresses.low(GATEWAY6), Ipv6Header.getAddressLow(wire, ip + Ipv6Header.SOURCE_OFFSET));
        assertEquals(NeighborDiscovery.SOLICITED_NODE_HIGH, Ipv6Header.getAddressHigh(wire, ip + Ipv6Header.DESTINATION_OFFSET));
        assertEquals(group, Ipv6Header.getAddressLow(wire, ip + Ipv6Header.DESTINATION_OFFSET));
        // The checks a receiver makes (hop limit 255, checksum, options): the parser of RFC 4861 section 7.1.
        assertEquals(NeighborDiscovery.Outcome.VALID, parsed.parse(wire, ip, ip + Ipv6Header.HEADER_LENGTH,
            length - ip - Ipv6Header.HEADER_LENGTH));
        assertEquals(Icmpv6Header.TYPE_NEIGHBOR_SOLICITATION, parsed.type);
        assertEquals(IpAddresses.high(target), parsed.targetHigh);
        assertEquals(IpAddresses.low(target), parsed.targetLow);
        assertEquals(SERVER_MAC, parsed.linkLayerAddress);
    }

    /** The backend's solicited advertisement for itself, to lb's gateway-ip6 and server MAC. */
    private int advertisement(final int backend, final long mac)
    {
        return NeighborDiscovery.writeAdvertisement(answer, 0, SERVER_MAC, mac, IpAddresses.high(backend),
            IpAddresses.low(backend), IpAddresses.high(GATEWAY6), IpAddresses.low(GATEWAY6), IpAddresses.high(backend),
            IpAddresses.low(backend), NeighborDiscovery.FLAG_SOLICITED | NeighborDiscovery.FLAG_OVERRIDE);
    }

    private void runUntil(final HealthProber p, final long endMs, final Runnable each)
    {
        for (; clock <= endMs * MS; clock += MS)
        {
            p.doWork(clock);
            each.run();
        }
    }

    @Test
    void anAdvertisementMarksTheBackendUpAtItsMac()
    {
        final HealthProber p = prober(5000, 3000, 1);
        p.doWork(clock);
        assertEquals(3, probes.size(), "every backend solicited at start");
        final int length = advertisement(B2, 0x02_AA_BB_CC_DD_EEL);
        assertTrue(frames.onIpv6Frame(answer, 0, length, clock + 2 * MS, p));
        assertEquals(List.of("2001:2:0:1::12 up 02:aa:bb:cc:dd:ee"), changes);
        assertEquals(0x02_AA_BB_CC_DD_EEL, p.macIfUp(B2));
        assertEquals(2 * MS, p.lastRttNanos(1));
    }

    @Test
    void framesThatAreNoValidAdvertisementOfAProbedAddressChangeNothing()
    {
        final HealthProber p = prober(5000, 3000, 1);
        p.doWork(clock);
        int length = advertisement(B1, 0x02_AA_BB_CC_DD_EEL);
        answer.putByte(EthernetHeader.HEADER_LENGTH + Ipv6Header.HEADER_LENGTH + NeighborDiscovery.TARGET_OFFSET + 15, (byte)0x99);
        assertFalse(frames.onIpv6Frame(answer, 0, length, clock, p), "checksum no longer verifies");

        length = advertisement(B1, 0x02_AA_BB_CC_DD_EEL);
        answer.putByte(EthernetHeader.HEADER_LENGTH + Ipv6Header.HOP_LIMIT_OFFSET, (byte)64);
        assertFalse(frames.onIpv6Frame(answer, 0, length, clock, p), "hop limit not 255: maybe from off-link");

        length = advertisement(B1, 0x02_AA_BB_CC_DD_EEL);
        assertFalse(frames.onIpv6Frame(answer, 0, length - 1, clock, p), "cut short");

        final int stranger = IpAddresses.parse("2001:2:0:1::99");
        length = advertisement(stranger, 0x02_AA_BB_CC_DD_EEL);
        assertTrue(frames.onIpv6Frame(answer, 0, length, clock, p), "a known address, but not probed");
        assertEquals(List.of(), changes, "nothing probed heard of");

        length = NeighborDiscovery.writeAdvertisement(answer, 0, SERVER_MAC, 0x02_AA_BB_CC_DD_EEL, IpAddresses.high(B1),
            0x7777, IpAddresses.high(GATEWAY6), IpAddresses.low(GATEWAY6), IpAddresses.high(B1), 0x7777,
            NeighborDiscovery.FLAG_SOLICITED);
        assertFalse(frames.onIpv6Frame(answer, 0, length, clock, p), "an address lb was never configured with");
        assertEquals(List.of(), changes);
    }

    @Test
    void aBackendsOwnSolicitationWithItsMacCountsAsAliveLikeAnArpRequest()
    {
        final HealthProber p = prober(5000, 3000, 1);
        p.doWork(clock);
        final int length = NeighborDiscovery.writeSolicitation(answer, 0, macOf(B3), IpAddresses.high(B3), IpAddresses.low(B3),
            IpAddresses.high(GATEWAY6), IpAddresses.low(GATEWAY6));
        assertTrue(frames.onIpv6Frame(answer, 0, length, clock, p));
        assertEquals(List.of("2001:2:0:1::13 up 02:00:00:00:02:13"), changes);
    }

    @Test
    void aLostAdvertisementIsSolicitedAgainAndOnlySilenceToEveryRetryMarksDown()
    {
        final HealthProber p = prober(5000, 3000, 1);
        final long[] deadAfter = {Long.MAX_VALUE};
        runUntil(p, 40_000, () ->
        {
            // Every backend answers 2 ms later, except: B1's answer to the 5 s cycle's probe is lost
            // (its retry is answered), and B2 answers nothing after t = 12 s.
            for (final long[] probe : probes)
            {
                final boolean lostOnce = probe[1] == B1 && probe[0] == 5000 * MS;
                final boolean dead = probe[1] == B2 && probe[0] > 12_000 * MS;
                if (probe[0] == clock - 2 * MS && !lostOnce && !dead)
                {
                    final int backend = (int)probe[1];
                    frames.onIpv6Frame(answer, 0, advertisement(backend, macOf(backend)), clock, p);
                }
            }
            if (deadAfter[0] == Long.MAX_VALUE && changes.contains("2001:2:0:1::12 down"))
            {
                deadAfter[0] = clock;
            }
        });
        assertTrue(changes.contains("2001:2:0:1::11 up 02:00:00:00:02:11"), changes.toString());
        assertTrue(p.isUp(0), "one lost advertisement did not take B1 out: " + changes);
        assertEquals(0, changes.stream().filter(c -> c.equals("2001:2:0:1::11 down")).count(), changes.toString());
        assertTrue(probes.stream().anyMatch(pr -> pr[1] == B1 && pr[0] == 8001 * MS), "B1 solicited again when overdue");
        assertFalse(p.isUp(1));
        assertTrue(deadAfter[0] - 12_000 * MS <= (5000 + 2 * 3000) * MS, "down after " + deadAfter[0] / MS + " ms");
        assertTrue(deadAfter[0] - 12_000 * MS > 3000 * MS, "not before the retry timed out too");
        assertTrue(p.isUp(2));
        assertEquals(1, changes.stream().filter(c -> c.equals("2001:2:0:1::12 down")).count());
    }

    @Test
    void ipv4BackendsStillGetArpAndNoGatewayIp6MeansNoSolicitation()
    {
        assertEquals(42, frames.writeProbe(wire, 0, 0xC612010B), "an ARP request frame");
        assertEquals(0x0806, wire.getShort(EthernetHeader.ETHER_TYPE_OFFSET, BIG_ENDIAN) & 0xFFFF);
        assertEquals(0, new NeighborProbes(SERVER_MAC, GATEWAY, 0).writeProbe(wire, 0, B1));
    }
}
