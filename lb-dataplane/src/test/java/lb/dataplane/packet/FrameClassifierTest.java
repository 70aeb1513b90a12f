package lb.dataplane.packet;

import lb.dataplane.checksum.ReferenceChecksum;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;

import static lb.dataplane.packet.GoldenFrames.BACKEND_IP;
import static lb.dataplane.packet.GoldenFrames.CLIENT_IP;
import static lb.dataplane.packet.GoldenFrames.MAC_B;
import static lb.dataplane.packet.GoldenFrames.VIP;
import static lb.dataplane.packet.GoldenFrames.bytes;
import static lb.dataplane.packet.GoldenFrames.embed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class FrameClassifierTest
{
    private static final int OFFSET = 5;

    private final ParsedFrame parsed = new ParsedFrame();

    @Test
    void goldenFramesCarryCorrectChecksums()
    {
        for (final String hex : new String[]{ GoldenFrames.TCP_SYN, GoldenFrames.ICMP_ECHO })
        {
            final byte[] frame = bytes(hex);
            assertTrue(ReferenceChecksum.verifies(frame, 14, 20), hex);
        }
        final byte[] tcp = bytes(GoldenFrames.TCP_SYN);
        assertEquals(0xd860, ReferenceChecksum.l4Checksum(tcp, 14));
        final byte[] udp = bytes(GoldenFrames.UDP_PADDED);
        assertEquals(0x8c29, ReferenceChecksum.l4Checksum(udp, 14));
        final byte[] vlanTcp = bytes(GoldenFrames.VLAN_TCP);
        assertTrue(ReferenceChecksum.verifies(vlanTcp, 18, 20));
        assertEquals(0x882d, ReferenceChecksum.l4Checksum(vlanTcp, 18));
        final byte[] options = bytes(GoldenFrames.IPV4_OPTIONS_UDP);
        assertTrue(ReferenceChecksum.verifies(options, 14, 24));
        final byte[] qinq = bytes(GoldenFrames.QINQ_UDP);
        assertTrue(ReferenceChecksum.verifies(qinq, 22, 20));
        assertEquals(0x5c1a, ReferenceChecksum.l4Checksum(qinq, 22));
        final byte[] icmp = bytes(GoldenFrames.ICMP_ECHO);
        assertTrue(ReferenceChecksum.verifies(icmp, 34, 24));
    }

    @Test
    void tcpSyn()
    {
        final UnsafeBuffer buffer = embed(bytes(GoldenFrames.TCP_SYN), OFFSET, 32, (byte)0x5A);

        assertEquals(FrameType.IPV4_TCP, FrameClassifier.classify(buffer, OFFSET, 74, parsed));

        assertEthernet(74, -1, -1, 0x0800, OFFSET + 14);
        assertIpv4(20, 60, 64, 6, CLIENT_IP, VIP, OFFSET + 34, 40);
        assertEquals(40000, parsed.srcPort);
        assertEquals(80, parsed.dstPort);
        assertEquals(TcpHeader.SYN, parsed.tcpFlags);
        assertNoIcmp();
        assertNoArp();
        assertNull(parsed.dropReason);
    }

    @Test
    void udpWithEthernetPadding()
    {
        final UnsafeBuffer buffer = embed(bytes(GoldenFrames.UDP_PADDED), OFFSET, 32, (byte)0x5A);

        assertEquals(FrameType.IPV4_UDP, FrameClassifier.classify(buffer, OFFSET, 60, parsed));

        assertEthernet(60, -1, -1, 0x0800, OFFSET + 14);
        // Datagram ends at 14 + 37 = 51: the 9 bytes of padding are not L4 payload.
        assertIpv4(20, 37, 63, 17, CLIENT_IP, VIP, OFFSET + 34, 17);
        assertEquals(5353, parsed.srcPort);
        assertEquals(53, parsed.dstPort);
        assertEquals(0, parsed.tcpFlags);
        assertNoIcmp();
        assertNoArp();
        assertNull(parsed.dropReason);
    }

    @Test
    void icmpEchoRequest()
    {
        final UnsafeBuffer buffer = embed(bytes(GoldenFrames.ICMP_ECHO), OFFSET, 32, (byte)0x5A);

        assertEquals(FrameType.IPV4_ICMP, FrameClassifier.classify(buffer, OFFSET, 58, parsed));

        assertEthernet(58, -1, -1, 0x0800, OFFSET + 14);
        assertIpv4(20, 44, 64, 1, CLIENT_IP, VIP, OFFSET + 34, 24);
        assertEquals(IcmpHeader.TYPE_ECHO_REQUEST, parsed.icmpType);
        assertEquals(0, parsed.icmpCode);
        assertEquals(0, parsed.srcPort);
        assertEquals(0, parsed.dstPort);
        assertEquals(0, parsed.tcpFlags);
        assertNoArp();
        assertNull(parsed.dropReason);
    }

    @Test
    void arpRequest()
    {
        final UnsafeBuffer buffer = embed(bytes(GoldenFrames.ARP_REQUEST), OFFSET, 32, (byte)0x5A);

        assertEquals(FrameType.ARP, FrameClassifier.classify(buffer, OFFSET, 60, parsed));

        assertEthernet(60, -1, -1, 0x0806, OFFSET + 14);
        assertEquals(ArpPacket.OP_REQUEST, parsed.arpOp);
        assertEquals(MAC_B, parsed.senderMac);
        assertEquals(CLIENT_IP, parsed.senderIp);
        assertEquals(0L, parsed.targetMac);
        assertEquals(VIP, parsed.targetIp);
        assertIpv4(0, 0, 0, 0, 0, 0, 0, 0);
        assertEquals(0, parsed.srcPort);
        assertEquals(0, parsed.dstPort);
        assertNoIcmp();
        assertNull(parsed.dropReason);
    }

    @Test
    void arpReplyUnpadded()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes(GoldenFrames.ARP_REPLY_UNPADDED));

        assertEquals(FrameType.ARP, FrameClassifier.classify(buffer, 0, 42, parsed));

        assertEquals(ArpPacket.OP_REPLY, parsed.arpOp);
        assertEquals(GoldenFrames.MAC_A, parsed.senderMac);
        assertEquals(VIP, parsed.senderIp);
        assertEquals(MAC_B, parsed.targetMac);
        assertEquals(CLIENT_IP, parsed.targetIp);
    }

    @Test
    void vlanTaggedTcp()
    {
        final UnsafeBuffer buffer = embed(bytes(GoldenFrames.VLAN_TCP), OFFSET, 32, (byte)0x5A);

        assertEquals(FrameType.IPV4_TCP, FrameClassifier.classify(buffer, OFFSET, 63, parsed));

        assertEthernet(63, 100, -1, 0x0800, OFFSET + 18);
        assertIpv4(20, 45, 5, 6, CLIENT_IP, VIP, OFFSET + 38, 25);
        assertEquals(40001, parsed.srcPort);
        assertEquals(443, parsed.dstPort);
        assertEquals(TcpHeader.PSH | TcpHeader.ACK, parsed.tcpFlags);
        assertNoIcmp();
        assertNoArp();
        assertNull(parsed.dropReason);
    }

    @Test
    void ipv4WithOptionsAndUdpChecksumZero()
    {
        final UnsafeBuffer buffer = embed(bytes(GoldenFrames.IPV4_OPTIONS_UDP), OFFSET, 32, (byte)0x5A);

        assertEquals(FrameType.IPV4_UDP, FrameClassifier.classify(buffer, OFFSET, 60, parsed));

        assertEthernet(60, -1, -1, 0x0800, OFFSET + 14);
        assertIpv4(24, 36, 2, 17, CLIENT_IP, VIP, OFFSET + 38, 12);
        assertEquals(1024, parsed.srcPort);
        assertEquals(4789, parsed.dstPort);
        assertEquals(0, parsed.tcpFlags);
        assertNoIcmp();
        assertNoArp();
        assertNull(parsed.dropReason);
    }

    @Test
    void doubleTaggedUdp()
    {
        final UnsafeBuffer buffer = embed(bytes(GoldenFrames.QINQ_UDP), OFFSET, 32, (byte)0x5A);

        assertEquals(FrameType.IPV4_UDP, FrameClassifier.classify(buffer, OFFSET, 60, parsed));

        assertEthernet(60, 10, 20, 0x0800, OFFSET + 22);
        assertIpv4(20, 32, 9, 17, CLIENT_IP, VIP, OFFSET + 42, 12);
        assertEquals(7000, parsed.srcPort);
        assertEquals(7001, parsed.dstPort);
        assertNoIcmp();
        assertNoArp();
        assertNull(parsed.dropReason);
    }

    @Test
    void classifyResetsEverythingButThePartialChecksumFlag()
    {
        final UnsafeBuffer tcp = new UnsafeBuffer(bytes(GoldenFrames.VLAN_TCP));
        final UnsafeBuffer arp = new UnsafeBuffer(bytes(GoldenFrames.ARP_REQUEST));
        final UnsafeBuffer garbage = new UnsafeBuffer(new byte[10]);

        parsed.l4ChecksumPartial = true;
        assertEquals(FrameType.IPV4_TCP, FrameClassifier.classify(tcp, 0, 63, parsed));
        assertTrue(parsed.l4ChecksumPartial);

        assertEquals(FrameType.ARP, FrameClassifier.classify(arp, 0, 60, parsed));
        assertTrue(parsed.l4ChecksumPartial);
        assertEquals(-1, parsed.vlanId);
        assertIpv4(0, 0, 0, 0, 0, 0, 0, 0);
        assertEquals(0, parsed.srcPort);
        assertEquals(0, parsed.dstPort);
        assertEquals(0, parsed.tcpFlags);

        assertEquals(FrameType.DROP, FrameClassifier.classify(garbage, 0, 10, parsed));
        assertEquals(DropReason.TRUNCATED_ETHERNET, parsed.dropReason);
        assertNoArp();
        assertEquals(0, parsed.etherType);
        assertEquals(0, parsed.l3Offset);
        assertTrue(parsed.l4ChecksumPartial);

        parsed.l4ChecksumPartial = false;
        assertEquals(FrameType.IPV4_TCP, FrameClassifier.classify(tcp, 0, 63, parsed));
        assertFalse(parsed.l4ChecksumPartial);
        assertNull(parsed.dropReason);
    }

    @Test
    void everyClassifierDropReason()
    {
        final List<DropCase> cases = new ArrayList<>();
        final byte[] tcp = bytes(GoldenFrames.TCP_SYN);
        final byte[] udp = bytes(GoldenFrames.UDP_PADDED);
        final byte[] icmp = bytes(GoldenFrames.ICMP_ECHO);
        final byte[] arp = bytes(GoldenFrames.ARP_REQUEST);
        final byte[] vlan = bytes(GoldenFrames.VLAN_TCP);
        final byte[] qinq = bytes(GoldenFrames.QINQ_UDP);

        cases.add(new DropCase("empty", tcp, 0, DropReason.TRUNCATED_ETHERNET));
        cases.add(new DropCase("13 bytes", tcp, 13, DropReason.TRUNCATED_ETHERNET));
        cases.add(new DropCase("ends in 802.1Q tag", vlan, 17, DropReason.TRUNCATED_VLAN));
        cases.add(new DropCase("ends in inner tag", qinq, 21, DropReason.TRUNCATED_VLAN));
        cases.add(new DropCase("IPv4 as IPv6", withU16(tcp, 12, 0x86DD), 74, DropReason.BAD_IP_VERSION));
        cases.add(new DropCase("802.3 length", withU16(tcp, 12, 0x002E), 74, DropReason.UNKNOWN_ETHERTYPE));
        cases.add(new DropCase("third tag", withU16(qinq, 20, 0x8100), 60, DropReason.UNKNOWN_ETHERTYPE));
        cases.add(new DropCase("tag then IPv4 as IPv6", withU16(vlan, 16, 0x86DD), 63, DropReason.BAD_IP_VERSION));
        cases.add(new DropCase("ARP fixed part cut", arp, 14 + 7, DropReason.TRUNCATED_ARP));
        cases.add(new DropCase("ARP addresses cut", arp, 14 + 27, DropReason.TRUNCATED_ARP));
        cases.add(new DropCase("ARP htype 6", withU16(arp, 14, 6), 60, DropReason.UNSUPPORTED_ARP));
        cases.add(new DropCase("ARP ptype IPv6", withU16(arp, 16, 0x86DD), 60, DropReason.UNSUPPORTED_ARP));
        cases.add(new DropCase("ARP hlen 8", withU8(arp, 18, 8), 60, DropReason.UNSUPPORTED_ARP));
        cases.add(new DropCase("ARP plen 16", withU8(arp, 19, 16), 60, DropReason.UNSUPPORTED_ARP));
        cases.add(new DropCase("ARP op 3 (RARP)", withU16(arp, 20, 3), 60, DropReason.UNSUPPORTED_ARP));
        cases.add(new DropCase("ARP op 0", withU16(arp, 20, 0), 60, DropReason.UNSUPPORTED_ARP));
        cases.add(new DropCase("19 bytes of IPv4", tcp, 14 + 19, DropReason.TRUNCATED_IPV4));
        cases.add(new DropCase("version 6", fixIp(withU8(tcp, 14, 0x65), 14), 74, DropReason.BAD_IP_VERSION));
        cases.add(new DropCase("version 0", fixIp(withU8(tcp, 14, 0x05), 14), 74, DropReason.BAD_IP_VERSION));
        cases.add(new DropCase("IHL 4", fixIp(withU8(tcp, 14, 0x44), 14), 74, DropReason.BAD_IHL));
        cases.add(new DropCase("IHL 0", withU8(tcp, 14, 0x40), 74, DropReason.BAD_IHL));
        cases.add(new DropCase("IHL 15 beyond frame", withU8(udp, 14, 0x4F), 60, DropReason.BAD_IHL));
        cases.add(new DropCase("total < IHL*4", fixIp(withU16(tcp, 16, 19), 14), 74, DropReason.BAD_TOTAL_LENGTH));
        cases.add(new DropCase("IHL 15 > total", fixIp(withU16(withU8(tcp, 14, 0x4F), 16, 56), 14), 74, DropReason.BAD_TOTAL_LENGTH));
        cases.add(new DropCase("total one beyond frame", fixIp(withU16(tcp, 16, 61), 14), 74, DropReason.BAD_TOTAL_LENGTH));
        cases.add(new DropCase("total beyond padding", fixIp(withU16(udp, 16, 47), 14), 60, DropReason.BAD_TOTAL_LENGTH));
        cases.add(new DropCase("checksum off by one", withU16(tcp, 24, 0x9147), 74, DropReason.BAD_IP_CHECKSUM));
        cases.add(new DropCase("source bit flipped", withU8(tcp, 29, 0x0B), 74, DropReason.BAD_IP_CHECKSUM));
        cases.add(new DropCase("option byte changed", withU8(bytes(GoldenFrames.IPV4_OPTIONS_UDP), 35, 1), 60,
            DropReason.BAD_IP_CHECKSUM));
        cases.add(new DropCase("more fragments", fixIp(withU16(tcp, 20, 0x2000), 14), 74, DropReason.IPV4_FRAGMENT));
        cases.add(new DropCase("last fragment", fixIp(withU16(tcp, 20, 0x0001), 14), 74, DropReason.IPV4_FRAGMENT));
        cases.add(new DropCase("DF and offset", fixIp(withU16(tcp, 20, 0x5FFF), 14), 74, DropReason.IPV4_FRAGMENT));
        cases.add(new DropCase("TCP 19 bytes", fixIp(withU16(tcp, 16, 39), 14), 74, DropReason.TRUNCATED_TCP));
        cases.add(new DropCase("TCP 0 bytes", fixIp(withU16(tcp, 16, 20), 14), 74, DropReason.TRUNCATED_TCP));
        cases.add(new DropCase("TCP offset 4", withU8(tcp, 46, 0x40), 74, DropReason.BAD_TCP_OFFSET));
        cases.add(new DropCase("TCP offset 11 > 40", withU8(tcp, 46, 0xB0), 74, DropReason.BAD_TCP_OFFSET));
        cases.add(new DropCase("UDP 7 bytes", fixIp(withU16(udp, 16, 27), 14), 60, DropReason.TRUNCATED_UDP));
        cases.add(new DropCase("UDP length short", withU16(udp, 38, 16), 60, DropReason.BAD_UDP_LENGTH));
        cases.add(new DropCase("UDP length long", withU16(udp, 38, 18), 60, DropReason.BAD_UDP_LENGTH));
        cases.add(new DropCase("UDP length 0", withU16(udp, 38, 0), 60, DropReason.BAD_UDP_LENGTH));
        cases.add(new DropCase("ICMP 7 bytes", fixIp(withU16(icmp, 16, 27), 14), 58, DropReason.TRUNCATED_ICMP));
        cases.add(new DropCase("GRE", fixIp(withU8(tcp, 23, 47), 14), 74, DropReason.UNSUPPORTED_PROTOCOL));
        cases.add(new DropCase("SCTP", fixIp(withU8(udp, 23, 132), 14), 60, DropReason.UNSUPPORTED_PROTOCOL));
        cases.add(new DropCase("source 0.0.0.5", fixIp(withU16(withU16(tcp, 26, 0), 28, 5), 14), 74, DropReason.IPV4_THIS_NETWORK));
        cases.add(new DropCase("destination 0.1.2.3", fixIp(withU8(tcp, 30, 0), 14), 74, DropReason.IPV4_THIS_NETWORK));
        cases.add(new DropCase("ARP for 0.0.0.7", withU16(withU16(arp, 38, 0), 40, 7), 60, DropReason.IPV4_THIS_NETWORK));
        addIpv6DropCases(cases);

        final EnumSet<DropReason> produced = EnumSet.noneOf(DropReason.class);
        for (final DropCase dropCase : cases)
        {
            final UnsafeBuffer buffer = embed(dropCase.frame, OFFSET, 64, (byte)0);
            final FrameType type = FrameClassifier.classify(buffer, OFFSET, dropCase.length, parsed);
            assertEquals(FrameType.DROP, type, dropCase.name);
            assertEquals(dropCase.expected, parsed.dropReason, dropCase.name);
            produced.add(parsed.dropReason);
        }

        final EnumSet<DropReason> classifierReasons = EnumSet.range(DropReason.TRUNCATED_ETHERNET, DropReason.UNSUPPORTED_PROTOCOL);
        assertEquals(classifierReasons, produced);
    }

    /** Each IPv6 fault in a golden IPv6 frame (TCP behind 24 bytes of extension headers, UDP, echo request). */
    private static void addIpv6DropCases(final List<DropCase> cases)
    {
        final byte[] tcp6 = bytes(GoldenFrames.V6_TCP_SYN_EXTENSIONS);
        final byte[] udp6 = bytes(GoldenFrames.V6_UDP);
        final byte[] echo6 = bytes(GoldenFrames.V6_ECHO_REQUEST);
        final int length = tcp6.length;
        cases.add(new DropCase("39 bytes of IPv6", tcp6, 14 + 39, DropReason.TRUNCATED_IPV6));
        cases.add(new DropCase("IPv6 version 4", withU8(tcp6, 14, 0x40), length, DropReason.BAD_IP_VERSION));
        cases.add(new DropCase("payload one beyond frame", withU16(tcp6, 18, 45), length, DropReason.BAD_PAYLOAD_LENGTH));
        cases.add(new DropCase("frame one short", tcp6, length - 1, DropReason.BAD_PAYLOAD_LENGTH));
        cases.add(new DropCase("hop-by-hop of 88 bytes", withU8(tcp6, 55, 10), length, DropReason.TRUNCATED_IPV6_EXTENSION));
        cases.add(new DropCase("fragment header first", withU8(tcp6, 20, 44), length, DropReason.IPV6_FRAGMENT));
        cases.add(new DropCase("fragment after hop-by-hop", withU8(tcp6, 54, 44), length, DropReason.IPV6_FRAGMENT));
        cases.add(new DropCase("AH", withU8(tcp6, 20, 51), length, DropReason.UNSUPPORTED_IPV6_EXTENSION));
        cases.add(new DropCase("ESP after hop-by-hop", withU8(tcp6, 54, 50), length, DropReason.UNSUPPORTED_IPV6_EXTENSION));
        cases.add(new DropCase("second hop-by-hop", withU8(tcp6, 62, 0), length, DropReason.UNSUPPORTED_IPV6_EXTENSION));
        cases.add(new DropCase("routing, 1 segment left", withU8(withU8(tcp6, 54, 43), 65, 1), length,
            DropReason.UNSUPPORTED_IPV6_EXTENSION));
        final byte[] nine = nineDestinationOptions();
        cases.add(new DropCase("nine destination options", nine, nine.length, DropReason.TOO_MANY_IPV6_EXTENSIONS));
        cases.add(new DropCase("IPv6 TCP 19 bytes", withU16(tcp6, 18, 24 + 19), length - 1, DropReason.TRUNCATED_TCP));
        cases.add(new DropCase("IPv6 TCP offset 15", withU8(tcp6, 90, 0xF0), length, DropReason.BAD_TCP_OFFSET));
        cases.add(new DropCase("IPv6 UDP 7 bytes", withU16(udp6, 18, 7), udp6.length, DropReason.TRUNCATED_UDP));
        cases.add(new DropCase("IPv6 UDP length long", withU16(udp6, 58, 14), udp6.length, DropReason.BAD_UDP_LENGTH));
        cases.add(new DropCase("IPv6 UDP checksum 0", withU16(udp6, 60, 0), udp6.length, DropReason.IPV6_UDP_ZERO_CHECKSUM));
        cases.add(new DropCase("ICMPv6 7 bytes", withU16(echo6, 18, 7), echo6.length, DropReason.TRUNCATED_ICMP));
        cases.add(new DropCase("IPv6 SCTP", withU8(udp6, 20, 132), udp6.length, DropReason.UNSUPPORTED_PROTOCOL));
        cases.add(new DropCase("IPv6 no next header", withU8(udp6, 20, 59), udp6.length, DropReason.UNSUPPORTED_PROTOCOL));
    }

    /** {@link GoldenFrames#V6_UDP} behind nine empty destination options headers: one more than a walk passes over. */
    private static byte[] nineDestinationOptions()
    {
        final byte[] udp6 = bytes(GoldenFrames.V6_UDP);
        final int extensions = 9 * 8;
        final byte[] frame = new byte[udp6.length + extensions];
        System.arraycopy(udp6, 0, frame, 0, 54);
        System.arraycopy(udp6, 54, frame, 54 + extensions, udp6.length - 54);
        frame[20] = 60;
        for (int i = 0; i < 9; i++)
        {
            frame[54 + 8 * i] = (byte)(i == 8 ? 17 : 60);
            frame[54 + 8 * i + 2] = 1; // PadN over the rest of the header
            frame[54 + 8 * i + 3] = 4;
        }
        return withU16(frame, 18, udp6.length - 54 + extensions);
    }

    @Test
    void ipv6TcpBehindExtensionHeaders()
    {
        final UnsafeBuffer buffer = embed(bytes(GoldenFrames.V6_TCP_SYN_EXTENSIONS), OFFSET, 32, (byte)0x5A);

        assertEquals(FrameType.IPV6_TCP, FrameClassifier.classify(buffer, OFFSET, 98, parsed));

        assertEthernet(98, -1, -1, 0x86DD, OFFSET + 14);
        // 40 fixed + 8 hop-by-hop + 16 destination options; payload 44 = 24 + a 20-byte TCP header.
        assertIpv4(64, 84, 64, 6, 0, 0, OFFSET + 14 + 64, 20);
        assertIpv6(GoldenFrames.V6_CLIENT_LOW, GoldenFrames.V6_VIP_LOW);
        assertEquals(40000, parsed.srcPort);
        assertEquals(80, parsed.dstPort);
        assertEquals(TcpHeader.SYN, parsed.tcpFlags);
        assertNoIcmp();
        assertNoArp();
        assertNull(parsed.dropReason);
    }

    @Test
    void ipv6UdpAndEcho()
    {
        final UnsafeBuffer udp = embed(bytes(GoldenFrames.V6_UDP), OFFSET, 32, (byte)0x5A);
        assertEquals(FrameType.IPV6_UDP, FrameClassifier.classify(udp, OFFSET, 67, parsed));
        assertIpv4(40, 53, 64, 17, 0, 0, OFFSET + 54, 13);
        assertIpv6(GoldenFrames.V6_CLIENT_LOW, GoldenFrames.V6_VIP_LOW);
        assertEquals(5353, parsed.srcPort);
        assertEquals(53, parsed.dstPort);

        final byte[] echoBytes = bytes(GoldenFrames.V6_ECHO_REQUEST);
        final UnsafeBuffer echo = embed(echoBytes, OFFSET, 32, (byte)0x5A);
        assertEquals(FrameType.IPV6_ICMP, FrameClassifier.classify(echo, OFFSET, echoBytes.length, parsed));
        assertEquals(58, parsed.protocol);
        assertEquals(128, parsed.icmpType);
        assertEquals(0, parsed.icmpCode);
        assertEquals(16, parsed.l4Length);
        assertEquals(0, parsed.srcPort);

        // A 0x86DD frame after an 802.1Q tag is classified too (the pipeline then drops it as tagged).
        final byte[] tagged = new byte[echoBytes.length + 4];
        System.arraycopy(echoBytes, 0, tagged, 0, 12);
        tagged[12] = (byte)0x81;
        tagged[15] = 9;
        System.arraycopy(echoBytes, 12, tagged, 16, echoBytes.length - 12);
        assertEquals(FrameType.IPV6_ICMP, FrameClassifier.classify(new UnsafeBuffer(tagged), 0, tagged.length, parsed));
        assertEquals(9, parsed.vlanId);
        assertEquals(18, parsed.l3Offset);
    }

    @Test
    void ipv6NeighborDiscoveryIsIcmpv6()
    {
        for (final String hex : new String[] {GoldenFrames.V6_NEIGHBOR_SOLICITATION, GoldenFrames.V6_NEIGHBOR_ADVERTISEMENT})
        {
            final byte[] frame = bytes(hex);
            assertEquals(FrameType.IPV6_ICMP, FrameClassifier.classify(new UnsafeBuffer(frame), 0, frame.length, parsed), hex);
            assertEquals(255, parsed.ttl);
            assertEquals(32, parsed.l4Length);
        }
        assertEquals(136, parsed.icmpType);
    }

    @Test
    void dontFragmentAloneIsNotAFragment()
    {
        final byte[] frame = fixIp(withU16(bytes(GoldenFrames.TCP_SYN), 20, 0x4000), 14);
        assertEquals(FrameType.IPV4_TCP, FrameClassifier.classify(new UnsafeBuffer(frame), 0, 74, parsed));
        final byte[] noFlags = fixIp(withU16(bytes(GoldenFrames.TCP_SYN), 20, 0x0000), 14);
        assertEquals(FrameType.IPV4_TCP, FrameClassifier.classify(new UnsafeBuffer(noFlags), 0, 74, parsed));
    }

    @Test
    void dropAfterTheIpHeaderKeepsTheAddresses()
    {
        final byte[] frame = withU8(bytes(GoldenFrames.TCP_SYN), 46, 0x40);
        assertEquals(FrameType.DROP, FrameClassifier.classify(new UnsafeBuffer(frame), 0, 74, parsed));
        assertEquals(DropReason.BAD_TCP_OFFSET, parsed.dropReason);
        assertEquals(CLIENT_IP, parsed.srcIp);
        assertEquals(VIP, parsed.dstIp);
        assertEquals(0, parsed.srcPort);
    }

    @Test
    void totalLengthValidOnlyWithBytesBeyondTheFrameIsRejected()
    {
        // All 74 bytes are in the buffer, but the frame is said to be 73 long: the last byte must not count.
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes(GoldenFrames.TCP_SYN));
        assertEquals(FrameType.DROP, FrameClassifier.classify(buffer, 0, 73, parsed));
        assertEquals(DropReason.BAD_TOTAL_LENGTH, parsed.dropReason);

        // Same for ARP: 41 of its 42 bytes.
        final UnsafeBuffer arp = new UnsafeBuffer(bytes(GoldenFrames.ARP_REQUEST));
        assertEquals(FrameType.DROP, FrameClassifier.classify(arp, 0, 41, parsed));
        assertEquals(DropReason.TRUNCATED_ARP, parsed.dropReason);
    }

    @Test
    void everyTruncationIsDroppedWithoutReadingOutsideTheFrame()
    {
        assertTrue(UnsafeBuffer.SHOULD_BOUNDS_CHECK, "the exact-size buffers below rely on Agrona's bounds checks");
        final Random random = new Random(42);

        for (final String hex : new String[]{
            GoldenFrames.TCP_SYN, GoldenFrames.UDP_PADDED, GoldenFrames.ICMP_ECHO, GoldenFrames.ICMP_ECHO_OPTIONS,
            GoldenFrames.ARP_REQUEST, GoldenFrames.VLAN_TCP, GoldenFrames.IPV4_OPTIONS_UDP, GoldenFrames.QINQ_UDP,
            GoldenFrames.V6_TCP_SYN_EXTENSIONS, GoldenFrames.V6_UDP, GoldenFrames.V6_ECHO_REQUEST,
            GoldenFrames.V6_NEIGHBOR_SOLICITATION })
        {
            final byte[] frame = bytes(hex);
            assertTrue(FrameClassifier.classify(new UnsafeBuffer(frame), 0, frame.length, parsed) != FrameType.DROP, hex);
            final FrameType fullType = FrameClassifier.classify(new UnsafeBuffer(frame), 0, frame.length, parsed);
            final int validFrom = fullType == FrameType.ARP ?
                parsed.l3Offset + ArpPacket.LENGTH : parsed.l3Offset + parsed.ipTotalLength;

            for (int length = 0; length <= frame.length; length++)
            {
                final String what = hex.substring(0, 40) + "... cut to " + length;
                final byte[] truncated = java.util.Arrays.copyOf(frame, length);

                // 1. A buffer ending exactly at the frame: any read past it throws.
                final byte[] exact = new byte[OFFSET + length];
                System.arraycopy(truncated, 0, exact, OFFSET, length);
                final FrameType type;
                try
                {
                    type = FrameClassifier.classify(new UnsafeBuffer(exact), OFFSET, length, parsed);
                }
                catch (final IndexOutOfBoundsException ex)
                {
                    fail(what + ": read outside the frame", ex);
                    return;
                }
                final String exactResult = parsed.toString();

                if (length < validFrom)
                {
                    assertEquals(FrameType.DROP, type, what);
                    final String reason = parsed.dropReason.name();
                    assertTrue(reason.startsWith("TRUNCATED_") || reason.startsWith("BAD_"), what + ": " + reason);
                }
                else
                {
                    assertEquals(fullType, type, what);
                }

                // 2. The same frame followed (and preceded) by different garbage: results must not change.
                for (int trial = 0; trial < 3; trial++)
                {
                    final byte[] noise = new byte[OFFSET + length + 80];
                    random.nextBytes(noise);
                    System.arraycopy(truncated, 0, noise, OFFSET, length);
                    assertEquals(type, FrameClassifier.classify(new UnsafeBuffer(noise), OFFSET, length, parsed), what);
                    assertEquals(exactResult, parsed.toString(), what);
                }
            }
        }
    }

    @Test
    void exactSizeBufferTrapIsArmed()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[8]);
        assertThrows(IndexOutOfBoundsException.class, () -> buffer.getByte(8));
    }

    @Test
    void forwardNatGoldenIsItselfClassifiable()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes(GoldenFrames.TCP_SYN_FORWARD_NAT));
        assertEquals(FrameType.IPV4_TCP, FrameClassifier.classify(buffer, 0, 74, parsed));
        assertEquals(BACKEND_IP, parsed.dstIp);
        assertEquals(8080, parsed.dstPort);
        assertEquals(63, parsed.ttl);
    }

    private void assertEthernet(
        final int frameLength, final int vlanId, final int innerVlanId, final int etherType, final int l3Offset)
    {
        assertEquals(OFFSET, parsed.frameOffset, "frameOffset");
        assertEquals(frameLength, parsed.frameLength, "frameLength");
        assertEquals(vlanId, parsed.vlanId, "vlanId");
        assertEquals(innerVlanId, parsed.innerVlanId, "innerVlanId");
        assertEquals(etherType, parsed.etherType, "etherType");
        assertEquals(l3Offset, parsed.l3Offset, "l3Offset");
    }

    private void assertIpv4(
        final int headerLength,
        final int totalLength,
        final int ttl,
        final int protocol,
        final int srcIp,
        final int dstIp,
        final int l4Offset,
        final int l4Length)
    {
        assertEquals(headerLength, parsed.ipHeaderLength, "ipHeaderLength");
        assertEquals(totalLength, parsed.ipTotalLength, "ipTotalLength");
        assertEquals(ttl, parsed.ttl, "ttl");
        assertEquals(protocol, parsed.protocol, "protocol");
        assertEquals(srcIp, parsed.srcIp, "srcIp");
        assertEquals(dstIp, parsed.dstIp, "dstIp");
        assertEquals(l4Offset, parsed.l4Offset, "l4Offset");
        assertEquals(l4Length, parsed.l4Length, "l4Length");
    }

    private void assertIpv6(final long srcLow, final long dstLow)
    {
        assertEquals(GoldenFrames.V6_HIGH, parsed.srcHigh, "srcHigh");
        assertEquals(srcLow, parsed.srcLow, "srcLow");
        assertEquals(GoldenFrames.V6_HIGH, parsed.dstHigh, "dstHigh");
        assertEquals(dstLow, parsed.dstLow, "dstLow");
    }

    private void assertNoIcmp()
    {
        assertEquals(0, parsed.icmpType, "icmpType");
        assertEquals(0, parsed.icmpCode, "icmpCode");
    }

    private void assertNoArp()
    {
        assertEquals(0, parsed.arpOp, "arpOp");
        assertEquals(0L, parsed.senderMac, "senderMac");
        assertEquals(0, parsed.senderIp, "senderIp");
        assertEquals(0L, parsed.targetMac, "targetMac");
        assertEquals(0, parsed.targetIp, "targetIp");
    }

    private static byte[] withU8(final byte[] frame, final int index, final int value)
    {
        final byte[] copy = frame.clone();
        copy[index] = (byte)value;
        return copy;
    }

    private static byte[] withU16(final byte[] frame, final int index, final int value)
    {
        final byte[] copy = frame.clone();
        copy[index] = (byte)(value >>> 8);
        copy[index + 1] = (byte)value;
        return copy;
    }

    /** Store a correct header checksum, computed by the reference implementation, so only the intended fault remains. */
    private static byte[] fixIp(final byte[] frame, final int ipOffset)
    {
        final int headerLength = (frame[ipOffset] & 0x0F) * 4;
        if (headerLength < 20 || ipOffset + headerLength > frame.length)
        {
            return frame;
        }
        return withU16(frame, ipOffset + 10, ReferenceChecksum.ipv4HeaderChecksum(frame, ipOffset));
    }

    private record DropCase(String name, byte[] frame, int length, DropReason expected)
    {
    }
}
