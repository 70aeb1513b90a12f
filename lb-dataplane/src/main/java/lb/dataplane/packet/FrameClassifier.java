package lb.dataplane.packet;

import lb.dataplane.checksum.Checksums;
import org.agrona.DirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static lb.dataplane.packet.EthernetHeader.DOUBLE_TAGGED_HEADER_LENGTH;
import static lb.dataplane.packet.EthernetHeader.DOUBLE_TAGGED_TYPE_OFFSET;
import static lb.dataplane.packet.EthernetHeader.ETHER_TYPE_ARP;
import static lb.dataplane.packet.EthernetHeader.ETHER_TYPE_IPV4;
import static lb.dataplane.packet.EthernetHeader.ETHER_TYPE_OFFSET;
import static lb.dataplane.packet.EthernetHeader.HEADER_LENGTH;
import static lb.dataplane.packet.EthernetHeader.INNER_TCI_OFFSET;
import static lb.dataplane.packet.EthernetHeader.OUTER_INNER_TYPE_OFFSET;
import static lb.dataplane.packet.EthernetHeader.OUTER_TCI_OFFSET;
import static lb.dataplane.packet.EthernetHeader.TAGGED_HEADER_LENGTH;
import static lb.dataplane.packet.EthernetHeader.TPID_8021Q;
import static lb.dataplane.packet.EthernetHeader.VLAN_ID_MASK;

/**
 * Decides what a received Ethernet frame is and fills a {@link ParsedFrame}, checking every length
 * before reading: it never reads outside {@code [offset, offset + length)}. It verifies the IPv4
 * header checksum, as a router does, but not L4 checksums, which a NAT carries through unchanged
 * in meaning (incremental updates preserve an error for the end host to find).
 * <p>
 * Stateless and allocation-free.
 */
public final class FrameClassifier
{
    private static final int ARP_FIXED_LENGTH = ArpPacket.SENDER_MAC_OFFSET;

    private FrameClassifier()
    {
    }

    /**
     * Classify one frame.
     * <p>
     * {@code out} is reset first, all fields but {@link ParsedFrame#l4ChecksumPartial} (see there).
     * On {@link FrameType#DROP}, {@code out.dropReason} says why, and the fields found before the
     * fault are filled (an IPv4 frame dropped for its L4 header has its addresses filled).
     * Ethernet padding after the IPv4 datagram is allowed: the datagram ends at its total length,
     * and the L4 length is counted from that, not from the frame length.
     *
     * @param buffer holding the frame.
     * @param offset of the frame's first byte (the destination MAC).
     * @param length of the frame as received (without FCS).
     * @param out    filled with what was found.
     * @return the frame type, {@link FrameType#DROP} if it is not one lb handles.
     */
    public static FrameType classify(final DirectBuffer buffer, final int offset, final int length, final ParsedFrame out)
    {
        out.reset();
        out.frameOffset = offset;
        out.frameLength = length;

        if (length < HEADER_LENGTH)
        {
            return drop(out, DropReason.TRUNCATED_ETHERNET);
        }

        int etherType = u16(buffer, offset + ETHER_TYPE_OFFSET);
        int l2Length = HEADER_LENGTH;
        if (EthernetHeader.isTpid(etherType))
        {
            if (length < TAGGED_HEADER_LENGTH)
            {
                return drop(out, DropReason.TRUNCATED_VLAN);
            }
            out.vlanId = u16(buffer, offset + OUTER_TCI_OFFSET) & VLAN_ID_MASK;
            etherType = u16(buffer, offset + OUTER_INNER_TYPE_OFFSET);
            l2Length = TAGGED_HEADER_LENGTH;

            if (etherType == TPID_8021Q)
            {
                if (length < DOUBLE_TAGGED_HEADER_LENGTH)
                {
                    return drop(out, DropReason.TRUNCATED_VLAN);
                }
                out.innerVlanId = u16(buffer, offset + INNER_TCI_OFFSET) & VLAN_ID_MASK;
                etherType = u16(buffer, offset + DOUBLE_TAGGED_TYPE_OFFSET);
                l2Length = DOUBLE_TAGGED_HEADER_LENGTH;
            }
        }

        out.etherType = etherType;
        out.l3Offset = offset + l2Length;

        if (etherType == ETHER_TYPE_IPV4)
        {
            return classifyIpv4(buffer, out.l3Offset, length - l2Length, out);
        }
        if (etherType == ETHER_TYPE_ARP)
        {
            return classifyArp(buffer, out.l3Offset, length - l2Length, out);
        }
        return drop(out, DropReason.UNKNOWN_ETHERTYPE);
    }

    private static FrameType classifyArp(final DirectBuffer buffer, final int arp, final int available, final ParsedFrame out)
    {
        if (available < ARP_FIXED_LENGTH)
        {
            return drop(out, DropReason.TRUNCATED_ARP);
        }

        final int operation = u16(buffer, arp + ArpPacket.OPERATION_OFFSET);
        if (u16(buffer, arp + ArpPacket.HARDWARE_TYPE_OFFSET) != ArpPacket.HARDWARE_TYPE_ETHERNET ||
            u16(buffer, arp + ArpPacket.PROTOCOL_TYPE_OFFSET) != ETHER_TYPE_IPV4 ||
            u8(buffer, arp + ArpPacket.HARDWARE_LENGTH_OFFSET) != EthernetHeader.MAC_LENGTH ||
            u8(buffer, arp + ArpPacket.PROTOCOL_LENGTH_OFFSET) != ArpPacket.IPV4_LENGTH ||
            (operation != ArpPacket.OP_REQUEST && operation != ArpPacket.OP_REPLY))
        {
            return drop(out, DropReason.UNSUPPORTED_ARP);
        }

        if (available < ArpPacket.LENGTH)
        {
            return drop(out, DropReason.TRUNCATED_ARP);
        }

        out.arpOp = operation;
        out.senderMac = EthernetHeader.getMac(buffer, arp + ArpPacket.SENDER_MAC_OFFSET);
        out.senderIp = buffer.getInt(arp + ArpPacket.SENDER_IP_OFFSET, BIG_ENDIAN);
        out.targetMac = EthernetHeader.getMac(buffer, arp + ArpPacket.TARGET_MAC_OFFSET);
        out.targetIp = buffer.getInt(arp + ArpPacket.TARGET_IP_OFFSET, BIG_ENDIAN);
        return FrameType.ARP;
    }

    private static FrameType classifyIpv4(final DirectBuffer buffer, final int ip, final int available, final ParsedFrame out)
    {
        if (available < Ipv4Header.MIN_HEADER_LENGTH)
        {
            return drop(out, DropReason.TRUNCATED_IPV4);
        }

        final int versionIhl = u8(buffer, ip + Ipv4Header.VERSION_IHL_OFFSET);
        if (versionIhl >>> 4 != 4)
        {
            return drop(out, DropReason.BAD_IP_VERSION);
        }

        final int headerLength = (versionIhl & 0x0F) << 2;
        if (headerLength < Ipv4Header.MIN_HEADER_LENGTH || headerLength > available)
        {
            return drop(out, DropReason.BAD_IHL);
        }

        final int totalLength = u16(buffer, ip + Ipv4Header.TOTAL_LENGTH_OFFSET);
        if (totalLength < headerLength || totalLength > available)
        {
            return drop(out, DropReason.BAD_TOTAL_LENGTH);
        }

        if (!Checksums.ipv4HeaderValid(buffer, ip, headerLength))
        {
            return drop(out, DropReason.BAD_IP_CHECKSUM);
        }

        final int flagsFragment = u16(buffer, ip + Ipv4Header.FLAGS_FRAGMENT_OFFSET);
        if ((flagsFragment & (Ipv4Header.FLAG_MORE_FRAGMENTS | Ipv4Header.FRAGMENT_OFFSET_MASK)) != 0)
        {
            return drop(out, DropReason.IPV4_FRAGMENT);
        }

        final int protocol = u8(buffer, ip + Ipv4Header.PROTOCOL_OFFSET);
        final int l4 = ip + headerLength;
        final int l4Length = totalLength - headerLength;
        out.ipHeaderLength = headerLength;
        out.ipTotalLength = totalLength;
        out.ttl = u8(buffer, ip + Ipv4Header.TTL_OFFSET);
        out.protocol = protocol;
        out.srcIp = buffer.getInt(ip + Ipv4Header.SOURCE_OFFSET, BIG_ENDIAN);
        out.dstIp = buffer.getInt(ip + Ipv4Header.DESTINATION_OFFSET, BIG_ENDIAN);
        out.l4Offset = l4;
        out.l4Length = l4Length;

        switch (protocol)
        {
            case Ipv4Header.PROTOCOL_TCP:
                return classifyTcp(buffer, l4, l4Length, out);

            case Ipv4Header.PROTOCOL_UDP:
                return classifyUdp(buffer, l4, l4Length, out);

            case Ipv4Header.PROTOCOL_ICMP:
                return classifyIcmp(buffer, l4, l4Length, out);

            default:
                return drop(out, DropReason.UNSUPPORTED_PROTOCOL);
        }
    }

    private static FrameType classifyTcp(final DirectBuffer buffer, final int tcp, final int l4Length, final ParsedFrame out)
    {
        if (l4Length < TcpHeader.MIN_HEADER_LENGTH)
        {
            return drop(out, DropReason.TRUNCATED_TCP);
        }

        final int headerLength = (u8(buffer, tcp + TcpHeader.DATA_OFFSET_OFFSET) >>> 4) << 2;
        if (headerLength < TcpHeader.MIN_HEADER_LENGTH || headerLength > l4Length)
        {
            return drop(out, DropReason.BAD_TCP_OFFSET);
        }

        out.srcPort = u16(buffer, tcp + TcpHeader.SOURCE_PORT_OFFSET);
        out.dstPort = u16(buffer, tcp + TcpHeader.DESTINATION_PORT_OFFSET);
        out.tcpFlags = u8(buffer, tcp + TcpHeader.FLAGS_OFFSET);
        return FrameType.IPV4_TCP;
    }

    private static FrameType classifyUdp(final DirectBuffer buffer, final int udp, final int l4Length, final ParsedFrame out)
    {
        if (l4Length < UdpHeader.HEADER_LENGTH)
        {
            return drop(out, DropReason.TRUNCATED_UDP);
        }

        // Linux trims an IP payload longer than the UDP length; lb drops it instead, because the
        // pseudo-header length (and so the checksum lb must keep right) would depend on which is believed.
        if (u16(buffer, udp + UdpHeader.LENGTH_OFFSET) != l4Length)
        {
            return drop(out, DropReason.BAD_UDP_LENGTH);
        }

        out.srcPort = u16(buffer, udp + UdpHeader.SOURCE_PORT_OFFSET);
        out.dstPort = u16(buffer, udp + UdpHeader.DESTINATION_PORT_OFFSET);
        return FrameType.IPV4_UDP;
    }

    private static FrameType classifyIcmp(final DirectBuffer buffer, final int icmp, final int l4Length, final ParsedFrame out)
    {
        if (l4Length < IcmpHeader.HEADER_LENGTH)
        {
            return drop(out, DropReason.TRUNCATED_ICMP);
        }

        out.icmpType = u8(buffer, icmp + IcmpHeader.TYPE_OFFSET);
        out.icmpCode = u8(buffer, icmp + IcmpHeader.CODE_OFFSET);
        return FrameType.IPV4_ICMP;
    }

    private static FrameType drop(final ParsedFrame out, final DropReason reason)
    {
        out.dropReason = reason;
        return FrameType.DROP;
    }

    private static int u8(final DirectBuffer buffer, final int index)
    {
        return buffer.getByte(index) & 0xFF;
    }

    private static int u16(final DirectBuffer buffer, final int index)
    {
        return buffer.getShort(index, BIG_ENDIAN) & 0xFFFF;
    }
}
