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
import static lb.dataplane.packet.Ipv6Header.ETHER_TYPE_IPV6;

/**
 * Decides what a received Ethernet frame is and fills a {@link ParsedFrame}, checking every length
 * before reading: it never reads outside {@code [offset, offset + length)}. It verifies the IPv4
 * header checksum, as a router does, but not L4 checksums, which a NAT carries through unchanged
 * in meaning (incremental updates preserve an error for the end host to find).
 * <p>
 * IPv6 has no header checksum; the classifier walks its extension headers with the frame's own
 * {@link Ipv6ExtensionWalk} (hop-by-hop, destination options and routing with no segments left are
 * passed over, a fragment or any other extension header is dropped under its name), then reads
 * TCP, UDP and ICMPv6 like their IPv4 counterparts. UDP's checksum 0, legal over IPv4, is dropped
 * over IPv6 (RFC 8200 section 8.1): a NAT66 rewrite could not keep it right.
 * <p>
 * An IPv4 address in 0.0.0.0/8 is never a source or destination on the wire (RFC 1122), and lb
 * names its IPv6 addresses by aliases there: dropping such frames (and ARP for such targets) here
 * means no IPv4 frame can ever match an IPv6 VIP or backend.
 * <p>
 * Stateless (the walk's fields are scratch) and allocation-free.
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
        if (etherType == ETHER_TYPE_IPV6)
        {
            return classifyIpv6(buffer, out.l3Offset, offset + length, out);
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
        // A sender of 0.0.0.0 is an ARP probe (RFC 5227) and stays; no target is ever in 0.0.0.0/8.
        if (isThisNetwork(out.targetIp))
        {
            return drop(out, DropReason.IPV4_THIS_NETWORK);
        }
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
        if (isThisNetwork(out.srcIp) || isThisNetwork(out.dstIp))
        {
            return drop(out, DropReason.IPV4_THIS_NETWORK);
        }

        switch (protocol)
        {
            case Ipv4Header.PROTOCOL_TCP:
                return classifyTcp(buffer, l4, l4Length, out) ? FrameType.IPV4_TCP : FrameType.DROP;

            case Ipv4Header.PROTOCOL_UDP:
                return classifyUdp(buffer, l4, l4Length, out) ? FrameType.IPV4_UDP : FrameType.DROP;

            case Ipv4Header.PROTOCOL_ICMP:
                return classifyIcmp(buffer, l4, l4Length, out) ? FrameType.IPV4_ICMP : FrameType.DROP;

            default:
                return drop(out, DropReason.UNSUPPORTED_PROTOCOL);
        }
    }

    private static FrameType classifyIpv6(final DirectBuffer buffer, final int ip, final int frameEnd, final ParsedFrame out)
    {
        if (frameEnd - ip < Ipv6Header.HEADER_LENGTH)
        {
            return drop(out, DropReason.TRUNCATED_IPV6);
        }
        final Ipv6ExtensionWalk walk = out.extensions;
        switch (walk.walk(buffer, ip, frameEnd))
        {
            case UPPER_LAYER:
                break;
            case NOT_IPV6:
                return drop(out, DropReason.BAD_IP_VERSION);
            case TRUNCATED:
                // Before the payload end is known the payload length itself overran the frame.
                return drop(out, walk.payloadEnd < 0 ? DropReason.BAD_PAYLOAD_LENGTH : DropReason.TRUNCATED_IPV6_EXTENSION);
            case FRAGMENT:
                return drop(out, DropReason.IPV6_FRAGMENT);
            case TOO_MANY_EXTENSIONS:
                return drop(out, DropReason.TOO_MANY_IPV6_EXTENSIONS);
            default:
                return drop(out, DropReason.UNSUPPORTED_IPV6_EXTENSION);
        }

        final int protocol = walk.upperLayerProtocol;
        final int l4 = walk.upperLayerOffset;
        final int l4Length = walk.upperLayerLength;
        out.ipHeaderLength = l4 - ip;
        out.ipTotalLength = walk.payloadEnd - ip;
        out.ttl = u8(buffer, ip + Ipv6Header.HOP_LIMIT_OFFSET);
        out.protocol = protocol;
        out.srcHigh = buffer.getLong(ip + Ipv6Header.SOURCE_OFFSET, BIG_ENDIAN);
        out.srcLow = buffer.getLong(ip + Ipv6Header.SOURCE_LOW_OFFSET, BIG_ENDIAN);
        out.dstHigh = buffer.getLong(ip + Ipv6Header.DESTINATION_OFFSET, BIG_ENDIAN);
        out.dstLow = buffer.getLong(ip + Ipv6Header.DESTINATION_LOW_OFFSET, BIG_ENDIAN);
        out.l4Offset = l4;
        out.l4Length = l4Length;

        switch (protocol)
        {
            case Ipv4Header.PROTOCOL_TCP:
                return classifyTcp(buffer, l4, l4Length, out) ? FrameType.IPV6_TCP : FrameType.DROP;

            case Ipv4Header.PROTOCOL_UDP:
                if (!classifyUdp(buffer, l4, l4Length, out))
                {
                    return FrameType.DROP;
                }
                if (u16(buffer, l4 + UdpHeader.CHECKSUM_OFFSET) == 0)
                {
                    return drop(out, DropReason.IPV6_UDP_ZERO_CHECKSUM);
                }
                return FrameType.IPV6_UDP;

            case Icmpv6Header.PROTOCOL_ICMPV6:
                return classifyIcmp(buffer, l4, l4Length, out) ? FrameType.IPV6_ICMP : FrameType.DROP;

            default:
                return drop(out, DropReason.UNSUPPORTED_PROTOCOL);
        }
    }

    /** @return whether an IPv4 address is in 0.0.0.0/8 (where lb's IPv6 aliases are). */
    private static boolean isThisNetwork(final int address)
    {
        return address >>> 24 == 0;
    }

    private static boolean classifyTcp(final DirectBuffer buffer, final int tcp, final int l4Length, final ParsedFrame out)
    {
        if (l4Length < TcpHeader.MIN_HEADER_LENGTH)
        {
            return refuse(out, DropReason.TRUNCATED_TCP);
        }

        final int headerLength = (u8(buffer, tcp + TcpHeader.DATA_OFFSET_OFFSET) >>> 4) << 2;
        if (headerLength < TcpHeader.MIN_HEADER_LENGTH || headerLength > l4Length)
        {
            return refuse(out, DropReason.BAD_TCP_OFFSET);
        }

        out.srcPort = u16(buffer, tcp + TcpHeader.SOURCE_PORT_OFFSET);
        out.dstPort = u16(buffer, tcp + TcpHeader.DESTINATION_PORT_OFFSET);
        out.tcpFlags = u8(buffer, tcp + TcpHeader.FLAGS_OFFSET);
        return true;
    }

    private static boolean classifyUdp(final DirectBuffer buffer, final int udp, final int l4Length, final ParsedFrame out)
    {
        if (l4Length < UdpHeader.HEADER_LENGTH)
        {
            return refuse(out, DropReason.TRUNCATED_UDP);
        }

        // Linux trims an IP payload longer than the UDP length; lb drops it instead, because the
        // pseudo-header length (and so the checksum lb must keep right) would depend on which is believed.
        if (u16(buffer, udp + UdpHeader.LENGTH_OFFSET) != l4Length)
        {
            return refuse(out, DropReason.BAD_UDP_LENGTH);
        }

        out.srcPort = u16(buffer, udp + UdpHeader.SOURCE_PORT_OFFSET);
        out.dstPort = u16(buffer, udp + UdpHeader.DESTINATION_PORT_OFFSET);
        return true;
    }

    /** ICMP and ICMPv6 share the first 4 bytes' layout (type, code, checksum) and the 8-byte minimum. */
    private static boolean classifyIcmp(final DirectBuffer buffer, final int icmp, final int l4Length, final ParsedFrame out)
    {
        if (l4Length < IcmpHeader.HEADER_LENGTH)
        {
            return refuse(out, DropReason.TRUNCATED_ICMP);
        }

        out.icmpType = u8(buffer, icmp + IcmpHeader.TYPE_OFFSET);
        out.icmpCode = u8(buffer, icmp + IcmpHeader.CODE_OFFSET);
        return true;
    }

    private static FrameType drop(final ParsedFrame out, final DropReason reason)
    {
        out.dropReason = reason;
        return FrameType.DROP;
    }

    /** {@link #drop} for the L4 readers, which both families share and which say only whether the header is good. */
    private static boolean refuse(final ParsedFrame out, final DropReason reason)
    {
        out.dropReason = reason;
        return false;
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
