package lb.control.health;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import lb.control.config.IpAddresses;
import lb.control.config.TcpCheckConfig;
import lb.dataplane.checksum.Checksums;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.Ipv4Header;
import lb.dataplane.packet.Ipv6Header;
import lb.dataplane.packet.TcpCheckFrames;
import lb.dataplane.packet.TcpHeader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The TCP check state machine, driven by passed-in time; every frame it sends checked byte by byte. */
class TcpCheckerTest
{
    private static final long MS = 1_000_000L;
    private static final long LB_MAC = 0x02_00_00_00_02_01L;
    private static final long BACKEND_MAC = 0x02_00_00_00_03_0BL;
    private static final int GATEWAY_IP = 0xC612_0101;   // 198.18.1.1
    private static final int B1 = 0xC612_010B;           // 198.18.1.11
    private static final int IP_OFFSET = EthernetHeader.HEADER_LENGTH;
    private static final int TCP_OFFSET = IP_OFFSET + Ipv4Header.MIN_HEADER_LENGTH;

    private final List<byte[]> sent = new ArrayList<>();
    private final List<String> changes = new ArrayList<>();
    private final List<String> log = new ArrayList<>();
    private long mac = BACKEND_MAC;
    private final UnsafeBuffer reply = new UnsafeBuffer(new byte[TcpCheckFrames.FRAME_LENGTH]);

    /** Checks 198.18.1.11:80 every 1 s, timeout 500 ms, rise 2, fall 3. */
    private TcpChecker checker()
    {
        final TcpChecker checker = new TcpChecker(LB_MAC, GATEWAY_IP, 0,
            (frame, offset, length) -> sent.add(Arrays.copyOfRange(frame.byteArray(), offset, offset + length)),
            ip -> ip == B1 ? mac : 0, (target, passing) -> changes.add(target.service() + " " + (passing ? "up" : "down")),
            log::add, 5);
        checker.setTargets(List.of(target(80)), 0);
        return checker;
    }

    private static TcpChecker.Target target(final int port)
    {
        return new TcpChecker.Target(0, "web", B1, port, 0,
            new TcpCheckConfig(TcpCheckConfig.BACKEND_PORT, Duration.ofSeconds(1), Duration.ofMillis(500), 2, 3));
    }

    private byte[] lastSent()
    {
        return sent.get(sent.size() - 1);
    }

    private static int u16(final byte[] f, final int at)
    {
        return ((f[at] & 0xFF) << 8) | (f[at + 1] & 0xFF);
    }

    private static int seq(final byte[] f)
    {
        return new UnsafeBuffer(f).getInt(TCP_OFFSET + TcpHeader.SEQUENCE_OFFSET, BIG_ENDIAN);
    }

    private static int sourcePort(final byte[] f)
    {
        return u16(f, TCP_OFFSET + TcpHeader.SOURCE_PORT_OFFSET);
    }

    /** What the backend answers to a SYN: flags, its own sequence number, and an acknowledgement number. */
    private int answer(final byte[] syn, final int flags, final int ack)
    {
        EthernetHeader.write(reply, 0, LB_MAC, BACKEND_MAC, EthernetHeader.ETHER_TYPE_IPV4);
        Ipv4Header.write(reply, IP_OFFSET, 40, 64, Ipv4Header.PROTOCOL_TCP, B1, GATEWAY_IP);
        writeAnswerTcp(reply, syn, TCP_OFFSET, flags, ack);
        reply.putShort(TCP_OFFSET + TcpHeader.CHECKSUM_OFFSET,
            (short)Checksums.l4Checksum(reply, IP_OFFSET, TCP_OFFSET, 20, Checksums.PROTOCOL_TCP), BIG_ENDIAN);
        return TcpCheckFrames.FRAME_LENGTH;
    }

    /** The answer's TCP header at {@code tcp} (in both the SYN and the answer), ports swapped, its checksum 0 for now. */
    private static void writeAnswerTcp(final UnsafeBuffer answer, final byte[] syn, final int tcp, final int flags, final int ack)
    {
        answer.putShort(tcp + TcpHeader.SOURCE_PORT_OFFSET, (short)u16(syn, tcp + TcpHeader.DESTINATION_PORT_OFFSET), BIG_ENDIAN);
        answer.putShort(tcp + TcpHeader.DESTINATION_PORT_OFFSET, (short)u16(syn, tcp + TcpHeader.SOURCE_PORT_OFFSET), BIG_ENDIAN);
        answer.putInt(tcp + TcpHeader.SEQUENCE_OFFSET, 0x0BADF00D, BIG_ENDIAN);
        answer.putInt(tcp + TcpHeader.ACKNOWLEDGEMENT_OFFSET, ack, BIG_ENDIAN);
        answer.putByte(tcp + TcpHeader.DATA_OFFSET_OFFSET, (byte)0x50);
        answer.putByte(tcp + TcpHeader.FLAGS_OFFSET, (byte)flags);
        answer.putShort(tcp + TcpHeader.WINDOW_OFFSET, (short)64240, BIG_ENDIAN);
        answer.putShort(tcp + TcpHeader.CHECKSUM_OFFSET, (short)0, BIG_ENDIAN);
    }

    private void synAck(final TcpChecker checker, final byte[] syn, final long now)
    {
        checker.onFrame(reply, 0, answer(syn, TcpHeader.SYN | TcpHeader.ACK, seq(syn) + 1), now);
    }

    private void rst(final TcpChecker checker, final byte[] syn, final long now)
    {
        checker.onFrame(reply, 0, answer(syn, TcpHeader.RST | TcpHeader.ACK, seq(syn) + 1), now);
    }

    private static void assertChecksumsValid(final byte[] f)
    {
        final UnsafeBuffer b = new UnsafeBuffer(f);
        assertTrue(Checksums.ipv4HeaderValid(b, IP_OFFSET, Ipv4Header.MIN_HEADER_LENGTH), "IPv4 header checksum");
        assertEquals(u16(f, TCP_OFFSET + TcpHeader.CHECKSUM_OFFSET),
            Checksums.l4Checksum(b, IP_OFFSET, TCP_OFFSET, 20, Checksums.PROTOCOL_TCP), "TCP checksum");
    }

    @Test
    void sendsASynFromTheGatewayAndResetsTheBackendsSynAck()
    {
        final TcpChecker checker = checker();
        checker.doWork(0);
        assertEquals(1, sent.size(), "checked at once");
        final byte[] syn = lastSent();
        assertEquals(TcpCheckFrames.FRAME_LENGTH, syn.length);
        final UnsafeBuffer s = new UnsafeBuffer(syn);
        assertEquals(BACKEND_MAC, EthernetHeader.getMac(s, EthernetHeader.DESTINATION_OFFSET), "to the MAC ARP found");
        assertEquals(LB_MAC, EthernetHeader.getMac(s, EthernetHeader.SOURCE_OFFSET));
        assertEquals(GATEWAY_IP, s.getInt(IP_OFFSET + Ipv4Header.SOURCE_OFFSET, BIG_ENDIAN));
        assertEquals(B1, s.getInt(IP_OFFSET + Ipv4Header.DESTINATION_OFFSET, BIG_ENDIAN));
        assertTrue(TcpCheckFrames.isCheckPort(sourcePort(syn)), "a source port of the checks' range");
        assertEquals(80, u16(syn, TCP_OFFSET + TcpHeader.DESTINATION_PORT_OFFSET));
        assertEquals(TcpHeader.SYN, syn[TCP_OFFSET + TcpHeader.FLAGS_OFFSET] & 0xFF);
        assertChecksumsValid(syn);

        synAck(checker, syn, 2 * MS);
        assertEquals(2, sent.size(), "an RST follows the SYN-ACK");
        final byte[] rst = lastSent();
        final UnsafeBuffer r = new UnsafeBuffer(rst);
        assertEquals(TcpHeader.RST, rst[TCP_OFFSET + TcpHeader.FLAGS_OFFSET] & 0xFF, "RST alone, no ACK");
        assertEquals(seq(syn) + 1, seq(rst), "seq = the SYN-ACK's ack: what the half-open connection expects");
        assertEquals(sourcePort(syn), sourcePort(rst));
        assertEquals(80, u16(rst, TCP_OFFSET + TcpHeader.DESTINATION_PORT_OFFSET));
        assertEquals(BACKEND_MAC, EthernetHeader.getMac(r, EthernetHeader.DESTINATION_OFFSET));
        assertEquals(GATEWAY_IP, r.getInt(IP_OFFSET + Ipv4Header.SOURCE_OFFSET, BIG_ENDIAN));
        assertChecksumsValid(rst);

        assertEquals(1, checker.synsSent());
        assertEquals(1, checker.synAcks());
        assertEquals(1, checker.resetsSent());
        assertTrue(checker.checks()[0].passing());
        assertEquals(TcpChecker.Result.SYN_ACK, checker.checks()[0].last());
        assertTrue(changes.isEmpty(), "passing from the start: no change");

        checker.doWork(999 * MS);
        assertEquals(2, sent.size(), "the next check after the interval");
        checker.doWork(1000 * MS);
        assertEquals(3, sent.size());
        assertNotEquals(sourcePort(syn), sourcePort(lastSent()), "each check its own port");
        assertNotEquals(seq(syn), seq(lastSent()), "and its own sequence number");
    }

    @Test
    void fallFailuresInARowTakeItOutAndRisePassesBringItBack()
    {
        final TcpChecker checker = checker();
        long now = 0;
        checker.doWork(now);
        synAck(checker, lastSent(), now + MS);                      // the first check passes
        // RST, timeout, RST: three failures in a row (fall 3), one second apart.
        now += 1000 * MS;
        checker.doWork(now);
        rst(checker, lastSent(), now + MS);
        assertTrue(checker.checks()[0].passing(), "1 of 3");
        assertEquals(1, checker.checks()[0].inARow());
        now += 1000 * MS;
        checker.doWork(now);                                       // no answer
        checker.doWork(now + 500 * MS);
        assertEquals(1, checker.checks()[0].inARow(), "the timeout is not over at exactly 500 ms");
        assertEquals(0, checker.timeouts());
        checker.doWork(now + 501 * MS);
        assertEquals(1, checker.timeouts());
        assertTrue(checker.checks()[0].passing(), "2 of 3");
        now += 1000 * MS;
        checker.doWork(now);
        rst(checker, lastSent(), now + MS);
        assertFalse(checker.checks()[0].passing(), "3 of 3: out");
        assertEquals(TcpChecker.Result.RST, checker.checks()[0].last());
        assertEquals(List.of("web down"), changes);
        assertEquals(2, checker.rsts());

        // Down: pass, fail (the passes start over), pass, pass.
        now += 1000 * MS;
        checker.doWork(now);
        synAck(checker, lastSent(), now + MS);
        assertEquals(1, checker.checks()[0].inARow(), "1 of 2 passed");
        now += 1000 * MS;
        checker.doWork(now);
        rst(checker, lastSent(), now + MS);
        assertEquals(0, checker.checks()[0].inARow(), "a failure starts the count over");
        now += 1000 * MS;
        checker.doWork(now);
        synAck(checker, lastSent(), now + MS);
        assertFalse(checker.checks()[0].passing());
        now += 1000 * MS;
        checker.doWork(now);
        synAck(checker, lastSent(), now + MS);
        assertTrue(checker.checks()[0].passing(), "2 of 2: back");
        assertEquals(List.of("web down", "web up"), changes, "each change told once");
        assertEquals(2, log.size(), log.toString());
        assertTrue(log.get(0).contains("198.18.1.11:80 of service web check down: rst"), log.get(0));
    }

    @Test
    void theFirstCheckDecidesAtOnce()
    {
        final TcpChecker checker = checker();
        checker.doWork(0);
        rst(checker, lastSent(), MS);
        assertFalse(checker.checks()[0].passing(), "a backend that was never seen passing is out at its first failure");
        assertEquals(List.of("web down"), changes);
    }

    @Test
    void aLateSynAckForAnEarlierCheckIsResetButNotCounted()
    {
        final TcpChecker checker = checker();
        checker.doWork(0);
        final byte[] first = lastSent();
        checker.doWork(501 * MS);                                  // first check timed out
        assertFalse(checker.checks()[0].passing(), "first check failed");
        checker.doWork(1000 * MS);
        final byte[] second = lastSent();
        final int sentBefore = sent.size();

        synAck(checker, first, 1001 * MS);                         // the first check's answer, late
        assertEquals(1, checker.staleReplies());
        assertEquals(0, checker.synAcks(), "not counted as a pass");
        assertFalse(checker.checks()[0].passing());
        assertEquals(sentBefore + 1, sent.size(), "but the backend's half-open connection is reset");
        assertEquals(seq(first) + 1, seq(lastSent()));
        assertEquals(sourcePort(first), sourcePort(lastSent()));

        // The right port with the wrong acknowledgement number answers nothing either.
        checker.onFrame(reply, 0, answer(second, TcpHeader.SYN | TcpHeader.ACK, seq(second) + 2), 1002 * MS);
        checker.onFrame(reply, 0, answer(second, TcpHeader.RST | TcpHeader.ACK, seq(second)), 1002 * MS);
        assertEquals(3, checker.staleReplies());
        assertEquals(0, checker.rsts());

        synAck(checker, second, 1003 * MS);
        assertEquals(1, checker.synAcks(), "the awaited answer counts");
    }

    @Test
    void noCheckBeforeArpKnowsTheMac()
    {
        mac = 0;
        final TcpChecker checker = checker();
        checker.doWork(0);
        checker.doWork(5000 * MS);
        assertTrue(sent.isEmpty(), "no MAC, no SYN");
        assertTrue(checker.checks()[0].passing(), "and no verdict");
        mac = BACKEND_MAC;
        checker.doWork(6000 * MS);
        assertEquals(1, sent.size());
    }

    @Test
    void targetsThatStayKeepTheirStateAndNewOnesAreCheckedAtOnce()
    {
        final TcpChecker checker = checker();
        checker.doWork(0);
        rst(checker, lastSent(), MS);
        assertFalse(checker.checks()[0].passing());
        checker.setTargets(List.of(target(80), target(8080)), 10 * MS);
        assertFalse(checker.check(0, B1, 80).passing(), "kept");
        assertTrue(checker.check(0, B1, 8080).passing());
        checker.doWork(10 * MS);
        assertEquals(8080, u16(lastSent(), TCP_OFFSET + TcpHeader.DESTINATION_PORT_OFFSET), "the new one at once");
        checker.setTargets(List.of(), 20 * MS);
        assertEquals(0, checker.checks().length);
    }

    // --- IPv6 backends ---------------------------------------------------------------------

    private static final int GATEWAY6 = IpAddresses.parseIpv6("2001:2:0:1::1");
    private static final int B6 = IpAddresses.parseIpv6("2001:2:0:1::11");
    private static final int OTHER6 = IpAddresses.parseIpv6("2001:2:0:1::12");
    private static final int TCP_OFFSET6 = IP_OFFSET + Ipv6Header.HEADER_LENGTH;
    private final UnsafeBuffer reply6 = new UnsafeBuffer(new byte[TcpCheckFrames.FRAME_LENGTH6]);

    /** Checks [2001:2:0:1::11]:80 beside 198.18.1.11:80, both every 1 s, timeout 500 ms, rise 2, fall 3. */
    private TcpChecker dualStackChecker(final int gatewayIp6)
    {
        final TcpChecker checker = new TcpChecker(LB_MAC, GATEWAY_IP, gatewayIp6,
            (frame, offset, length) -> sent.add(Arrays.copyOfRange(frame.byteArray(), offset, offset + length)),
            ip -> ip == B1 || ip == B6 ? mac : 0,
            (target, passing) -> changes.add(IpAddresses.format(target.ip()) + " " + (passing ? "up" : "down")), log::add, 5);
        checker.setTargets(List.of(new TcpChecker.Target(1, "web6", B6, 80, 0, target(80).config()), target(80)), 0);
        return checker;
    }

    /** What the IPv6 backend {@code from} answers to an IPv6 SYN. */
    private int answer6(final byte[] syn, final int from, final int flags, final int ack)
    {
        final UnsafeBuffer s = new UnsafeBuffer(syn);
        EthernetHeader.write(reply6, 0, LB_MAC, BACKEND_MAC, Ipv6Header.ETHER_TYPE_IPV6);
        Ipv6Header.write(reply6, IP_OFFSET, TcpHeader.MIN_HEADER_LENGTH, Checksums.PROTOCOL_TCP, 64, IpAddresses.high(from),
            IpAddresses.low(from), Ipv6Header.getAddressHigh(s, IP_OFFSET + Ipv6Header.SOURCE_OFFSET),
            Ipv6Header.getAddressLow(s, IP_OFFSET + Ipv6Header.SOURCE_OFFSET));
        writeAnswerTcp(reply6, syn, TCP_OFFSET6, flags, ack);
        reply6.putShort(TCP_OFFSET6 + TcpHeader.CHECKSUM_OFFSET,
            (short)Checksums.ipv6L4Checksum(reply6, IP_OFFSET, TCP_OFFSET6, 20, Checksums.PROTOCOL_TCP), BIG_ENDIAN);
        return TcpCheckFrames.FRAME_LENGTH6;
    }

    private static int seq6(final byte[] f)
    {
        return new UnsafeBuffer(f).getInt(TCP_OFFSET6 + TcpHeader.SEQUENCE_OFFSET, BIG_ENDIAN);
    }

    /** The frame sent last to the IPv6 backend (IPv6 frames are the longer ones). */
    private byte[] lastSent6()
    {
        for (int i = sent.size() - 1; i >= 0; i--)
        {
            if (sent.get(i).length == TcpCheckFrames.FRAME_LENGTH6)
            {
                return sent.get(i);
            }
        }
        throw new AssertionError("no IPv6 frame sent");
    }

    private static void assertIpv6FromGatewayTo(final byte[] f, final int to)
    {
        final UnsafeBuffer b = new UnsafeBuffer(f);
        assertEquals(Ipv6Header.ETHER_TYPE_IPV6, b.getShort(EthernetHeader.ETHER_TYPE_OFFSET, BIG_ENDIAN) & 0xFFFF);
        assertEquals(BACKEND_MAC, EthernetHeader.getMac(b, EthernetHeader.DESTINATION_OFFSET), "to the MAC NDP found");
        assertEquals(IpAddresses.high(GATEWAY6), Ipv6Header.getAddressHigh(b, IP_OFFSET + Ipv6Header.SOURCE_OFFSET));
        assertEquals(IpAddresses.low(GATEWAY6), Ipv6Header.getAddressLow(b, IP_OFFSET + Ipv6Header.SOURCE_OFFSET));
        assertEquals(IpAddresses.high(to), Ipv6Header.getAddressHigh(b, IP_OFFSET + Ipv6Header.DESTINATION_OFFSET));
        assertEquals(IpAddresses.low(to), Ipv6Header.getAddressLow(b, IP_OFFSET + Ipv6Header.DESTINATION_OFFSET));
        assertTrue(Checksums.ipv6L4ChecksumValid(b, IP_OFFSET, TCP_OFFSET6, 20, Checksums.PROTOCOL_TCP), "TCP checksum");
    }

    @Test
    void anIpv6BackendIsCheckedFromGatewayIp6AndItsSynAckReset()
    {
        final TcpChecker checker = dualStackChecker(GATEWAY6);
        checker.doWork(0);
        assertEquals(2, sent.size(), "both families checked at once");
        final byte[] syn = lastSent6();
        assertIpv6FromGatewayTo(syn, B6);
        assertTrue(TcpCheckFrames.isCheckPort(u16(syn, TCP_OFFSET6 + TcpHeader.SOURCE_PORT_OFFSET)));
        assertEquals(80, u16(syn, TCP_OFFSET6 + TcpHeader.DESTINATION_PORT_OFFSET));
        assertEquals(TcpHeader.SYN, syn[TCP_OFFSET6 + TcpHeader.FLAGS_OFFSET] & 0xFF);

        checker.onFrame(reply6, 0, answer6(syn, B6, TcpHeader.SYN | TcpHeader.ACK, seq6(syn) + 1), MS);
        assertEquals(3, sent.size(), "an RST follows the SYN-ACK");
        final byte[] rst = lastSent6();
        assertIpv6FromGatewayTo(rst, B6);
        assertEquals(TcpHeader.RST, rst[TCP_OFFSET6 + TcpHeader.FLAGS_OFFSET] & 0xFF);
        assertEquals(seq6(syn) + 1, seq6(rst), "seq = the SYN-ACK's ack");
        assertEquals(u16(syn, TCP_OFFSET6 + TcpHeader.SOURCE_PORT_OFFSET), u16(rst, TCP_OFFSET6 + TcpHeader.SOURCE_PORT_OFFSET));
        assertEquals(1, checker.synAcks());
        assertEquals(TcpChecker.Result.SYN_ACK, checker.check(1, B6, 80).last());
        assertEquals(TcpChecker.Result.NONE, checker.check(0, B1, 80).last(), "the IPv4 check still awaits its own answer");
    }

    @Test
    void anIpv6BackendFallsOnRstsAndRisesOnSynAcksByTheIpv4Rules()
    {
        final TcpChecker checker = dualStackChecker(GATEWAY6);
        long now = 0;
        checker.doWork(now);
        checker.onFrame(reply6, 0, answer6(lastSent6(), B6, TcpHeader.RST | TcpHeader.ACK, seq6(lastSent6()) + 1), now + MS);
        assertFalse(checker.check(1, B6, 80).passing(), "the first check decides at once");
        assertEquals(List.of("2001:2:0:1::11 down"), changes);
        assertTrue(log.get(0).contains("[2001:2:0:1::11]:80 of service web6 check down: rst"), log.get(0));
        for (int pass = 1; pass <= 2; pass++)
        {
            now += 1000 * MS;
            checker.doWork(now);
            checker.onFrame(reply6, 0, answer6(lastSent6(), B6, TcpHeader.SYN | TcpHeader.ACK, seq6(lastSent6()) + 1),
                now + MS);
            assertEquals(pass == 2, checker.check(1, B6, 80).passing(), pass + " of 2 passed");
        }
        // The IPv4 backend beside it is never answered: its timeouts take it out on its own.
        assertEquals(List.of("2001:2:0:1::11 down", "198.18.1.11 down", "2001:2:0:1::11 up"), changes);
        assertEquals(1, checker.rsts());
        assertEquals(2, checker.synAcks());
    }

    @Test
    void anIpv6AnswerFromAnotherAddressOrToAnotherGatewayAnswersNothing()
    {
        final TcpChecker checker = dualStackChecker(GATEWAY6);
        checker.doWork(0);
        final byte[] syn = lastSent6();
        checker.onFrame(reply6, 0, answer6(syn, OTHER6, TcpHeader.RST | TcpHeader.ACK, seq6(syn) + 1), MS);
        assertEquals(1, checker.staleReplies(), "the right ports from another backend: stale");
        // To an address that is not gateway-ip6: ignored altogether.
        answer6(syn, B6, TcpHeader.RST | TcpHeader.ACK, seq6(syn) + 1);
        reply6.putLong(IP_OFFSET + Ipv6Header.DESTINATION_LOW_OFFSET, 0x99, BIG_ENDIAN);
        checker.onFrame(reply6, 0, TcpCheckFrames.FRAME_LENGTH6, MS);
        assertEquals(1, checker.staleReplies());
        assertEquals(0, checker.rsts());
        assertTrue(checker.check(1, B6, 80).passing());
        assertTrue(changes.isEmpty());
    }

    @Test
    void withoutGatewayIp6NoIpv6BackendIsChecked()
    {
        final TcpChecker checker = dualStackChecker(0);
        checker.doWork(0);
        assertEquals(1, sent.size(), "the IPv4 backend only");
        assertEquals(TcpCheckFrames.FRAME_LENGTH, sent.get(0).length);
    }
}
