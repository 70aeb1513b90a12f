package lb.dataplane.packet;

import lb.dataplane.checksum.ReferenceChecksum;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static lb.dataplane.packet.GoldenFrames.CLIENT_IP;
import static lb.dataplane.packet.GoldenFrames.MAC_A;
import static lb.dataplane.packet.GoldenFrames.MAC_B;
import static lb.dataplane.packet.GoldenFrames.VIP;
import static lb.dataplane.packet.GoldenFrames.bytes;
import static lb.dataplane.packet.GoldenFrames.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlyweightsTest
{
    private static final int OFFSET = 3;

    @Test
    void ethernetUntagged()
    {
        final UnsafeBuffer buffer = GoldenFrames.embed(bytes(GoldenFrames.TCP_SYN), OFFSET, 0, (byte)0);
        final EthernetHeader ethernet = new EthernetHeader().wrap(buffer, OFFSET);

        assertEquals(MAC_A, ethernet.destinationMac());
        assertEquals(MAC_B, ethernet.sourceMac());
        assertEquals(0x0800, ethernet.etherType());
        assertEquals(0, ethernet.tagCount());
        assertEquals(14, ethernet.headerLength());
        assertEquals(-1, ethernet.outerVlanId());
        assertEquals(-1, ethernet.innerVlanId());
        assertEquals(0x0800, ethernet.innerEtherType());

        ethernet.destinationMac(0xA1B2_C3D4_E5F6L).sourceMac(0x0102_0304_0506L);
        assertEquals("a1b2c3d4e5f6010203040506", hex(buffer.byteArray(), OFFSET, 12));
        assertEquals(0xA1B2_C3D4_E5F6L, ethernet.destinationMac());
        assertEquals(0x0102_0304_0506L, ethernet.sourceMac());
    }

    @Test
    void ethernetTagged()
    {
        final EthernetHeader vlan = new EthernetHeader().wrap(new UnsafeBuffer(bytes(GoldenFrames.VLAN_TCP)), 0);
        assertEquals(0x8100, vlan.etherType());
        assertEquals(1, vlan.tagCount());
        assertEquals(18, vlan.headerLength());
        assertEquals(100, vlan.outerVlanId());
        assertEquals(-1, vlan.innerVlanId());
        assertEquals(0x0800, vlan.innerEtherType());

        final EthernetHeader qinq = new EthernetHeader().wrap(new UnsafeBuffer(bytes(GoldenFrames.QINQ_UDP)), 0);
        assertEquals(0x88A8, qinq.etherType());
        assertEquals(2, qinq.tagCount());
        assertEquals(22, qinq.headerLength());
        assertEquals(10, qinq.outerVlanId());
        assertEquals(20, qinq.innerVlanId());
        assertEquals(0x0800, qinq.innerEtherType());
    }

    @Test
    void ethernetWriters()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[32]);
        assertEquals(14, EthernetHeader.write(buffer, 1, MAC_A, MAC_B, 0x0806));
        assertEquals("0200000000010200000000020806", hex(buffer.byteArray(), 1, 14));
        assertEquals(18, EthernetHeader.writeTagged(buffer, 1, MAC_A, MAC_B, 100, 0x0800));
        assertEquals("020000000001020000000002810000640800", hex(buffer.byteArray(), 1, 18));
    }

    @Test
    void arpFlyweightReadsTheGoldenRequest()
    {
        final ArpPacket arp = new ArpPacket().wrap(new UnsafeBuffer(bytes(GoldenFrames.ARP_REQUEST)), 14);
        assertEquals(1, arp.hardwareType());
        assertEquals(0x0800, arp.protocolType());
        assertEquals(6, arp.hardwareLength());
        assertEquals(4, arp.protocolLength());
        assertEquals(ArpPacket.OP_REQUEST, arp.operation());
        assertEquals(MAC_B, arp.senderMac());
        assertEquals(CLIENT_IP, arp.senderIp());
        assertEquals(0L, arp.targetMac());
        assertEquals(VIP, arp.targetIp());
    }

    @Test
    void arpFrameWritersProduceTheGoldenFrames()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        buffer.setMemory(0, 64, (byte)0xEE);

        assertEquals(42, ArpPacket.writeRequestFrame(buffer, OFFSET, MAC_B, CLIENT_IP, VIP));
        assertEquals(GoldenFrames.ARP_REQUEST_UNPADDED, hex(buffer.byteArray(), OFFSET, 42));
        assertEquals((byte)0xEE, buffer.getByte(OFFSET + 42), "nothing written past the frame");

        assertEquals(42, ArpPacket.writeReplyFrame(buffer, OFFSET, MAC_A, VIP, MAC_B, CLIENT_IP));
        assertEquals(GoldenFrames.ARP_REPLY_UNPADDED, hex(buffer.byteArray(), OFFSET, 42));

        final ParsedFrame parsed = new ParsedFrame();
        assertEquals(FrameType.ARP, FrameClassifier.classify(buffer, OFFSET, 42, parsed));
        assertEquals(ArpPacket.OP_REPLY, parsed.arpOp);
    }

    @Test
    void ipv4FlyweightReadsAndWrites()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes(GoldenFrames.IPV4_OPTIONS_UDP));
        final Ipv4Header ip = new Ipv4Header().wrap(buffer, 14);
        assertEquals(4, ip.version());
        assertEquals(6, ip.ihl());
        assertEquals(24, ip.headerLength());
        assertEquals(4, ip.optionsLength());
        assertEquals(46, ip.dscp());
        assertEquals(1, ip.ecn());
        assertEquals(36, ip.totalLength());
        assertEquals(0x4242, ip.identification());
        assertEquals(0x2, ip.flags());
        assertTrue(ip.dontFragment());
        assertFalse(ip.moreFragments());
        assertEquals(0, ip.fragmentOffset());
        assertEquals(2, ip.ttl());
        assertEquals(17, ip.protocol());
        assertEquals(0x139a, ip.checksum());
        assertEquals(CLIENT_IP, ip.sourceAddress());
        assertEquals(VIP, ip.destinationAddress());

        ip.flagsAndFragmentOffset(0x1, 185).ttl(9).identification(7).dscpEcn(10, 2).totalLength(36)
            .sourceAddress(0x0A000001).destinationAddress(0x0A000002).protocol(6).updateChecksum();
        assertTrue(ip.moreFragments());
        assertFalse(ip.dontFragment());
        assertEquals(185, ip.fragmentOffset());
        assertEquals(9, ip.ttl());
        assertEquals(7, ip.identification());
        assertEquals(10, ip.dscp());
        assertEquals(2, ip.ecn());
        assertEquals(0x0A000001, ip.sourceAddress());
        assertEquals(0x0A000002, ip.destinationAddress());
        assertEquals(6, ip.protocol());
        assertTrue(ReferenceChecksum.verifies(buffer.byteArray(), 14, 24));
        assertEquals("10.0.0.2", Ipv4Header.addressToString(ip.destinationAddress()));
        assertEquals("198.18.1.1", Ipv4Header.addressToString(VIP));

        ip.versionAndHeaderLength(20);
        assertEquals(5, ip.ihl());
        assertEquals(4, ip.version());
    }

    @Test
    void ipv4WriterProducesAValidHeader()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[40]);
        assertEquals(20, Ipv4Header.write(buffer, 2, 60, 64, 6, CLIENT_IP, VIP));
        // TCP_SYN's header except the id (0x1c46 there): fields and a checksum the reference accepts.
        assertEquals("4500003c000040004006", hex(buffer.byteArray(), 2, 10));
        assertEquals("c612000ac6120101", hex(buffer.byteArray(), 14, 8));
        assertTrue(ReferenceChecksum.verifies(buffer.byteArray(), 2, 20));
    }

    @Test
    void tcpFlyweight()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes(GoldenFrames.VLAN_TCP));
        final TcpHeader tcp = new TcpHeader().wrap(buffer, 38);
        assertEquals(40001, tcp.sourcePort());
        assertEquals(443, tcp.destinationPort());
        assertEquals(0xdeadbeefL, tcp.sequence());
        assertEquals(0x01020304L, tcp.acknowledgement());
        assertEquals(5, tcp.dataOffset());
        assertEquals(20, tcp.headerLength());
        assertEquals(TcpHeader.PSH | TcpHeader.ACK, tcp.flags());
        assertEquals(502, tcp.window());
        assertEquals(0x882d, tcp.checksum());
        assertEquals(0, tcp.urgentPointer());

        tcp.sourcePort(1).destinationPort(65535).sequence(0xFFFF_FFFFL).acknowledgement(1).headerLength(60)
            .flags(TcpHeader.FIN | TcpHeader.CWR).window(7).checksum(0xBEEF).urgentPointer(9);
        assertEquals("0001ffffffffffff00000001f0810007beef0009", hex(buffer.byteArray(), 38, 20));
        assertEquals(60, tcp.headerLength());
        assertEquals(0xFFFF_FFFFL, tcp.sequence());
    }

    @Test
    void udpFlyweight()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes(GoldenFrames.UDP_PADDED));
        final UdpHeader udp = new UdpHeader().wrap(buffer, 34);
        assertEquals(5353, udp.sourcePort());
        assertEquals(53, udp.destinationPort());
        assertEquals(17, udp.length());
        assertEquals(0x8c29, udp.checksum());
        udp.sourcePort(53).destinationPort(5353).length(8).checksum(0);
        assertEquals("003514e900080000", hex(buffer.byteArray(), 34, 8));
    }

    @Test
    void icmpFlyweight()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes(GoldenFrames.ICMP_ECHO));
        final IcmpHeader icmp = new IcmpHeader().wrap(buffer, 34);
        assertEquals(IcmpHeader.TYPE_ECHO_REQUEST, icmp.type());
        assertEquals(0, icmp.code());
        assertEquals(0xa27f, icmp.checksum());
        assertEquals(0x1234, icmp.identifier());
        assertEquals(1, icmp.sequence());
        icmp.type(3).code(4).checksum(1).identifier(2).sequence(3);
        assertEquals("0304000100020003", hex(buffer.byteArray(), 34, 8));
    }

    @Test
    void echoReplyInPlace()
    {
        final UnsafeBuffer buffer = GoldenFrames.embed(bytes(GoldenFrames.ICMP_ECHO), OFFSET, 16, (byte)0x77);
        final ParsedFrame parsed = new ParsedFrame();
        assertEquals(FrameType.IPV4_ICMP, FrameClassifier.classify(buffer, OFFSET, 58, parsed));

        final int length = IcmpHeader.writeEchoReplyInPlace(buffer, parsed, 64);

        assertEquals(58, length);
        assertEquals(GoldenFrames.ICMP_ECHO_REPLY, hex(buffer.byteArray(), OFFSET, length));
        assertTrue(ReferenceChecksum.verifies(buffer.byteArray(), OFFSET + 14, 20));
        assertTrue(ReferenceChecksum.verifies(buffer.byteArray(), OFFSET + 34, 24));
    }

    @Test
    void echoReplyDropsIpOptions()
    {
        final UnsafeBuffer buffer = GoldenFrames.embed(bytes(GoldenFrames.ICMP_ECHO_OPTIONS), OFFSET, 16, (byte)0x77);
        final ParsedFrame parsed = new ParsedFrame();
        assertEquals(FrameType.IPV4_ICMP, FrameClassifier.classify(buffer, OFFSET, 66, parsed));
        assertEquals(28, parsed.ipHeaderLength);

        final int length = IcmpHeader.writeEchoReplyInPlace(buffer, parsed, 64);

        assertEquals(58, length);
        assertEquals(GoldenFrames.ICMP_ECHO_OPTIONS_REPLY, hex(buffer.byteArray(), OFFSET, length));
        assertEquals(FrameType.IPV4_ICMP, FrameClassifier.classify(buffer, OFFSET, length, parsed));
        assertEquals(IcmpHeader.TYPE_ECHO_REPLY, parsed.icmpType);
        assertEquals(VIP, parsed.srcIp);
    }

    @Test
    void echoReplyOfVlanTaggedRequestKeepsTheTagAndDropsPadding()
    {
        // The ICMP_ECHO request moved behind an 802.1Q tag (VLAN 7) and padded to 70 bytes.
        final byte[] untagged = bytes(GoldenFrames.ICMP_ECHO);
        final byte[] tagged = new byte[70];
        System.arraycopy(untagged, 0, tagged, 0, 12);
        System.arraycopy(bytes("81000007"), 0, tagged, 12, 4);
        System.arraycopy(untagged, 12, tagged, 16, untagged.length - 12);
        final UnsafeBuffer buffer = new UnsafeBuffer(tagged);
        final ParsedFrame parsed = new ParsedFrame();
        assertEquals(FrameType.IPV4_ICMP, FrameClassifier.classify(buffer, 0, 70, parsed));

        final int length = IcmpHeader.writeEchoReplyInPlace(buffer, parsed, 64);

        final String reply = GoldenFrames.ICMP_ECHO_REPLY;
        assertEquals(62, length);
        assertEquals(reply.substring(0, 24) + "81000007" + reply.substring(24), hex(tagged, 0, length));
    }

    @Test
    void parsedFrameResetLeavesPartialFlag()
    {
        final ParsedFrame parsed = new ParsedFrame();
        parsed.l4ChecksumPartial = true;
        parsed.srcPort = 5;
        parsed.senderMac = 9;
        parsed.dropReason = DropReason.NO_FLOW;
        parsed.reset();
        assertTrue(parsed.l4ChecksumPartial);
        assertEquals(0, parsed.srcPort);
        assertEquals(0L, parsed.senderMac);
        assertEquals(ParsedFrame.NO_VLAN, parsed.vlanId);
        assertEquals(ParsedFrame.NO_VLAN, parsed.innerVlanId);
        assertNull(parsed.dropReason);
    }
}
