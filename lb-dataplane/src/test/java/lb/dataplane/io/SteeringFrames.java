package lb.dataplane.io;

import java.nio.ByteOrder;
import java.util.Arrays;
import org.agrona.concurrent.UnsafeBuffer;

import static lb.dataplane.io.TestFrames.putMac;

/**
 * Frames for the fanout-steering tests: IPv4 TCP/UDP with chosen endpoints, ARP, ICMP, fragments;
 * IPv6 TCP/UDP behind extension headers, ICMPv6 errors, NDP and echo. Checksums are left 0 in the
 * IPv6 frames: the steering program never reads them.
 */
final class SteeringFrames
{
    static final int TCP = 6;
    static final int UDP = 17;
    static final int ICMP = 1;
    static final int GRE = 47;
    static final int ICMPV6 = 58;
    static final int HOP_BY_HOP = 0;
    static final int ROUTING = 43;
    static final int FRAGMENT = 44;
    static final int ESP = 50;
    static final int AUTHENTICATION = 51;
    static final int NO_NEXT_HEADER = 59;
    static final int DESTINATION_OPTIONS = 60;
    static final int ICMPV6_ECHO_REQUEST = 128;
    static final int ICMPV6_ECHO_REPLY = 129;
    static final int ICMPV6_ROUTER_SOLICITATION = 133;
    static final int ICMPV6_ROUTER_ADVERTISEMENT = 134;
    static final int ICMPV6_NEIGHBOR_SOLICITATION = 135;
    static final int ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
    static final int ICMPV6_MLD2_REPORT = 143;
    private static final int IPV6_HEADER = 40;

    private SteeringFrames()
    {
    }

    /**
     * An IPv4 frame, 14-byte Ethernet header (or 18 with an 802.1Q tag), an IP header of
     * {@code ihl} words (options filled with NOPs), a TCP or UDP header and a little payload.
     */
    static byte[] ipv4(final long dstMac, final long srcMac, final int protocol, final int srcIp, final int srcPort,
        final int dstIp, final int dstPort, final int ihl, final int fragment, final boolean vlan)
    {
        final int l2 = vlan ? 18 : 14;
        final int ipLength = ihl * 4;
        final int l4Length = protocol == TCP ? 20 : 8;
        final int payload = 16;
        final byte[] bytes = new byte[Math.max(60, l2 + ipLength + l4Length + payload)];
        final UnsafeBuffer b = new UnsafeBuffer(bytes);
        putEthernet(b, dstMac, srcMac, 0x0800, vlan);
        b.putByte(l2, (byte)(0x40 | ihl));
        b.putShort(l2 + 2, (short)(ipLength + l4Length + payload), ByteOrder.BIG_ENDIAN);
        b.putShort(l2 + 6, (short)fragment, ByteOrder.BIG_ENDIAN);
        b.putByte(l2 + 8, (byte)64);
        b.putByte(l2 + 9, (byte)protocol);
        b.putInt(l2 + 12, srcIp, ByteOrder.BIG_ENDIAN);
        b.putInt(l2 + 16, dstIp, ByteOrder.BIG_ENDIAN);
        for (int i = 20; i < ipLength; i++)
        {
            b.putByte(l2 + i, (byte)1);
        }
        b.putShort(l2 + 10, (short)ipChecksum(b, l2, ipLength), ByteOrder.BIG_ENDIAN);
        final int l4 = l2 + ipLength;
        b.putShort(l4, (short)srcPort, ByteOrder.BIG_ENDIAN);
        b.putShort(l4 + 2, (short)dstPort, ByteOrder.BIG_ENDIAN);
        if (protocol == TCP)
        {
            b.putByte(l4 + 12, (byte)0x50);
            b.putByte(l4 + 13, (byte)0x02);
        }
        else if (protocol == UDP)
        {
            b.putShort(l4 + 4, (short)(l4Length + payload), ByteOrder.BIG_ENDIAN);
        }
        return bytes;
    }

    /**
     * An ICMP error of {@code type} from {@code srcIp} to {@code dstIp}, with an outer IP header of
     * {@code ihl} words, quoting all of the IPv4 packet in {@code quoted} (an untagged frame).
     */
    static byte[] icmpError(final long dstMac, final long srcMac, final int srcIp, final int dstIp, final int type,
        final int ihl, final byte[] quoted)
    {
        final byte[] outer = ipv4(dstMac, srcMac, ICMP, srcIp, 0, dstIp, 0, ihl, 0, false);
        final int icmp = 14 + ihl * 4;
        final byte[] bytes = new byte[icmp + 8 + quoted.length - 14];
        System.arraycopy(outer, 0, bytes, 0, icmp);
        final UnsafeBuffer b = new UnsafeBuffer(bytes);
        b.putShort(16, (short)(bytes.length - 14), ByteOrder.BIG_ENDIAN);
        b.putShort(24, (short)0, ByteOrder.BIG_ENDIAN);
        b.putShort(24, (short)ipChecksum(b, 14, ihl * 4), ByteOrder.BIG_ENDIAN);
        b.putByte(icmp, (byte)type);
        System.arraycopy(quoted, 14, bytes, icmp + 8, quoted.length - 14);
        return bytes;
    }

    static byte[] tcp(final long dstMac, final long srcMac, final int srcIp, final int srcPort, final int dstIp,
        final int dstPort)
    {
        return ipv4(dstMac, srcMac, TCP, srcIp, srcPort, dstIp, dstPort, 5, 0, false);
    }

    /** An ARP request (broadcast) from {@code senderIp} for {@code targetIp}. */
    static byte[] arp(final long srcMac, final int senderIp, final int targetIp)
    {
        final byte[] bytes = new byte[60];
        final UnsafeBuffer b = new UnsafeBuffer(bytes);
        putMac(b, 0, 0xFFFF_FFFF_FFFFL);
        putMac(b, 6, srcMac);
        b.putShort(12, (short)0x0806, ByteOrder.BIG_ENDIAN);
        b.putShort(14, (short)1, ByteOrder.BIG_ENDIAN);
        b.putShort(16, (short)0x0800, ByteOrder.BIG_ENDIAN);
        b.putByte(18, (byte)6);
        b.putByte(19, (byte)4);
        b.putShort(20, (short)1, ByteOrder.BIG_ENDIAN);
        putMac(b, 22, srcMac);
        b.putInt(28, senderIp, ByteOrder.BIG_ENDIAN);
        b.putInt(38, targetIp, ByteOrder.BIG_ENDIAN);
        return bytes;
    }

    /**
     * An IPv6 TCP or UDP frame (14-byte Ethernet header, or 18 with an 802.1Q tag) with the
     * extension headers named in {@code extensions} between the fixed header and the TCP/UDP header.
     */
    static byte[] ipv6(final long dstMac, final long srcMac, final int protocol, final long srcHigh, final long srcLow,
        final int srcPort, final long dstHigh, final long dstLow, final int dstPort, final int[] extensions,
        final boolean vlan)
    {
        return frame6(dstMac, srcMac,
            packet6(srcHigh, srcLow, dstHigh, dstLow, 64, extensions, protocol, transport(protocol, srcPort, dstPort)), vlan);
    }

    /** A TCP SYN (20-byte header) or UDP header with 16 bytes of payload. */
    static byte[] transport(final int protocol, final int srcPort, final int dstPort)
    {
        final int headerLength = protocol == TCP ? 20 : 8;
        final byte[] bytes = new byte[headerLength + 16];
        final UnsafeBuffer b = new UnsafeBuffer(bytes);
        b.putShort(0, (short)srcPort, ByteOrder.BIG_ENDIAN);
        b.putShort(2, (short)dstPort, ByteOrder.BIG_ENDIAN);
        if (protocol == TCP)
        {
            b.putByte(12, (byte)0x50);
            b.putByte(13, (byte)0x02);
        }
        else
        {
            b.putShort(4, (short)bytes.length, ByteOrder.BIG_ENDIAN);
        }
        return bytes;
    }

    /**
     * An IPv6 packet (no Ethernet header): the fixed header, the extension headers of
     * {@code extensions} (the i-th is 8 x (1 + i % 3) bytes of PadN options, a routing header with
     * segments left 0, or an 8-byte fragment header), then {@code upper} as {@code protocol}.
     */
    static byte[] packet6(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow, final int hopLimit,
        final int[] extensions, final int protocol, final byte[] upper)
    {
        int length = IPV6_HEADER;
        for (int i = 0; i < extensions.length; i++)
        {
            length += extensionLength(extensions[i], i);
        }
        final byte[] bytes = new byte[length + upper.length];
        final UnsafeBuffer b = new UnsafeBuffer(bytes);
        b.putByte(0, (byte)0x60);
        b.putShort(4, (short)(bytes.length - IPV6_HEADER), ByteOrder.BIG_ENDIAN);
        b.putByte(6, (byte)(extensions.length > 0 ? extensions[0] : protocol));
        b.putByte(7, (byte)hopLimit);
        b.putLong(8, srcHigh, ByteOrder.BIG_ENDIAN);
        b.putLong(16, srcLow, ByteOrder.BIG_ENDIAN);
        b.putLong(24, dstHigh, ByteOrder.BIG_ENDIAN);
        b.putLong(32, dstLow, ByteOrder.BIG_ENDIAN);
        int at = IPV6_HEADER;
        for (int i = 0; i < extensions.length; i++)
        {
            final int extensionLength = extensionLength(extensions[i], i);
            b.putByte(at, (byte)(i + 1 < extensions.length ? extensions[i + 1] : protocol));
            if (extensions[i] == FRAGMENT)
            {
                b.putShort(at + 2, (short)0x0001, ByteOrder.BIG_ENDIAN);   // offset 0, more fragments
                b.putInt(at + 4, 0x1234, ByteOrder.BIG_ENDIAN);
            }
            else
            {
                b.putByte(at + 1, (byte)(extensionLength / 8 - 1));
                if (extensions[i] == ROUTING)
                {
                    b.putByte(at + 2, (byte)4);                                // segment routing, segments left 0
                }
                else
                {
                    b.putByte(at + 2, (byte)1);                                // PadN over the rest
                    b.putByte(at + 3, (byte)(extensionLength - 4));
                }
            }
            at += extensionLength;
        }
        System.arraycopy(upper, 0, bytes, at, upper.length);
        return bytes;
    }

    private static int extensionLength(final int extension, final int index)
    {
        return extension == FRAGMENT ? 8 : 8 * (1 + index % 3);
    }

    /** The packet in an Ethernet frame of EtherType IPv6, with an 802.1Q tag if {@code vlan}. */
    static byte[] frame6(final long dstMac, final long srcMac, final byte[] packet, final boolean vlan)
    {
        final int l2 = vlan ? 18 : 14;
        final byte[] bytes = new byte[Math.max(60, l2 + packet.length)];
        final UnsafeBuffer b = new UnsafeBuffer(bytes);
        putEthernet(b, dstMac, srcMac, 0x86DD, vlan);
        b.putBytes(l2, packet);
        return bytes;
    }

    /** An ICMPv6 message: type, code, checksum 0, then {@code body} (from the 4 bytes after the checksum on). */
    static byte[] icmpv6(final int type, final int code, final byte[] body)
    {
        final byte[] bytes = new byte[4 + body.length];
        bytes[0] = (byte)type;
        bytes[1] = (byte)code;
        System.arraycopy(body, 0, bytes, 4, body.length);
        return bytes;
    }

    /** An ICMPv6 error of {@code type} (1..4) quoting all of {@code quoted}, an IPv6 packet. */
    static byte[] icmpv6Error(final long dstMac, final long srcMac, final long srcHigh, final long srcLow,
        final long dstHigh, final long dstLow, final int type, final int[] extensions, final byte[] quoted)
    {
        final byte[] body = new byte[4 + quoted.length];
        if (type == 2)
        {
            new UnsafeBuffer(body).putInt(0, 1280, ByteOrder.BIG_ENDIAN);        // packet too big: the MTU
        }
        System.arraycopy(quoted, 0, body, 4, quoted.length);
        return frame6(dstMac, srcMac,
            packet6(srcHigh, srcLow, dstHigh, dstLow, 64, extensions, ICMPV6, icmpv6(type, 0, body)), false);
    }

    /**
     * A neighbour solicitation from {@code srcHigh:srcLow} for the target, to its solicited-node
     * address and MAC, with a source link-layer address option.
     */
    static byte[] neighborSolicitation(final long srcMac, final long srcHigh, final long srcLow, final long targetHigh,
        final long targetLow)
    {
        final byte[] body = new byte[4 + 16 + 8];
        final UnsafeBuffer b = new UnsafeBuffer(body);
        b.putLong(4, targetHigh, ByteOrder.BIG_ENDIAN);
        b.putLong(12, targetLow, ByteOrder.BIG_ENDIAN);
        b.putByte(20, (byte)1);
        b.putByte(21, (byte)1);
        putMac(b, 22, srcMac);
        final long solicitedLow = 0x0000_0001_FF00_0000L | (targetLow & 0xFF_FFFFL);
        return frame6(0x3333_FF00_0000L | (targetLow & 0xFF_FFFFL), srcMac,
            packet6(srcHigh, srcLow, 0xFF02_0000_0000_0000L, solicitedLow, 255,
                new int[0], ICMPV6, icmpv6(ICMPV6_NEIGHBOR_SOLICITATION, 0, body)), false);
    }

    /** The frame cut to {@code length} bytes. */
    static byte[] cut(final byte[] frame, final int length)
    {
        return Arrays.copyOf(frame, length);
    }

    /** The Ethernet header, with an 802.1Q tag (VLAN 7) before the EtherType if {@code vlan}. */
    private static void putEthernet(final UnsafeBuffer b, final long dstMac, final long srcMac, final int etherType,
        final boolean vlan)
    {
        putMac(b, 0, dstMac);
        putMac(b, 6, srcMac);
        if (vlan)
        {
            b.putShort(12, (short)0x8100, ByteOrder.BIG_ENDIAN);
            b.putShort(14, (short)7, ByteOrder.BIG_ENDIAN);
        }
        b.putShort(vlan ? 16 : 12, (short)etherType, ByteOrder.BIG_ENDIAN);
    }

    private static int ipChecksum(final UnsafeBuffer b, final int offset, final int length)
    {
        int sum = 0;
        for (int i = 0; i < length; i += 2)
        {
            sum += b.getShort(offset + i, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return ~sum & 0xFFFF;
    }
}
