package lb.dataplane.pipeline;

import lb.dataplane.checksum.Checksums;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.IcmpHeader;
import lb.dataplane.packet.Icmpv6Header;
import lb.dataplane.packet.Ipv4Header;
import lb.dataplane.packet.Ipv6Header;
import lb.dataplane.packet.TcpHeader;
import org.agrona.concurrent.UnsafeBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/** Frames the pipeline tests feed in. */
final class TestFrames
{
    private TestFrames()
    {
    }

    /**
     * Writes an Ethernet/IPv4/TCP frame at index 0 with 'payload' bytes of data (a pattern of the
     * source port), don't-fragment set and valid checksums; returns its length.
     */
    static int tcp(final UnsafeBuffer frame, final long dstMac, final long srcMac, final int src, final int dst,
        final int sport, final int dport, final int flags, final int payload)
    {
        final int ip = EthernetHeader.write(frame, 0, dstMac, srcMac, EthernetHeader.ETHER_TYPE_IPV4);
        final int l4 = ip + Ipv4Header.write(frame, ip, 20 + 20 + payload, 64, 6, src, dst);
        frame.setMemory(l4, 20 + payload, (byte)0);
        frame.putShort(l4 + TcpHeader.SOURCE_PORT_OFFSET, (short)sport, BIG_ENDIAN);
        frame.putShort(l4 + TcpHeader.DESTINATION_PORT_OFFSET, (short)dport, BIG_ENDIAN);
        frame.putInt(l4 + TcpHeader.SEQUENCE_OFFSET, 0x1000_0000 + sport, BIG_ENDIAN);
        frame.putByte(l4 + TcpHeader.DATA_OFFSET_OFFSET, (byte)0x50);
        frame.putByte(l4 + TcpHeader.FLAGS_OFFSET, (byte)flags);
        frame.putShort(l4 + TcpHeader.WINDOW_OFFSET, (short)65535, BIG_ENDIAN);
        for (int i = 0; i < payload; i++)
        {
            frame.putByte(l4 + 20 + i, (byte)(i * 7 + sport));
        }
        frame.putShort(l4 + TcpHeader.CHECKSUM_OFFSET, (short)Checksums.l4Checksum(frame, ip, l4, 20 + payload, 6), BIG_ENDIAN);
        return l4 + 20 + payload;
    }

    /** Writes an Ethernet/IPv4/UDP frame at index 0 with 'payload' bytes of data, the checksum or none; returns its length. */
    static int udp(final UnsafeBuffer frame, final long dstMac, final long srcMac, final int src, final int dst,
        final int sport, final int dport, final int payload, final boolean withChecksum)
    {
        final int ip = EthernetHeader.write(frame, 0, dstMac, srcMac, EthernetHeader.ETHER_TYPE_IPV4);
        final int l4 = ip + Ipv4Header.write(frame, ip, 20 + 8 + payload, 64, 17, src, dst);
        frame.putShort(l4, (short)sport, BIG_ENDIAN);
        frame.putShort(l4 + 2, (short)dport, BIG_ENDIAN);
        frame.putShort(l4 + 4, (short)(8 + payload), BIG_ENDIAN);
        frame.putShort(l4 + 6, (short)0, BIG_ENDIAN);
        for (int i = 0; i < payload; i++)
        {
            frame.putByte(l4 + 8 + i, (byte)(i + 1));
        }
        if (withChecksum)
        {
            frame.putShort(l4 + 6, (short)Checksums.l4Checksum(frame, ip, l4, 8 + payload, 17), BIG_ENDIAN);
        }
        return l4 + 8 + payload;
    }

    /**
     * Writes an Ethernet/IPv4/ICMP error at index 0 quoting {@code quoteLength} bytes of the IPv4
     * packet in {@code quoted} (a frame, its IPv4 header at 14), with valid checksums; returns its length.
     *
     * @param rest the 32 bits after the checksum (the next-hop MTU in the low 16 for fragmentation needed).
     */
    static int icmpError(final UnsafeBuffer frame, final long dstMac, final long srcMac, final int src, final int dst,
        final int type, final int code, final int rest, final byte[] quoted, final int quoteLength)
    {
        final int ip = EthernetHeader.write(frame, 0, dstMac, srcMac, EthernetHeader.ETHER_TYPE_IPV4);
        final int icmp = ip + Ipv4Header.write(frame, ip, 20 + IcmpHeader.HEADER_LENGTH + quoteLength, 64, 1, src, dst);
        frame.putByte(icmp + IcmpHeader.TYPE_OFFSET, (byte)type);
        frame.putByte(icmp + IcmpHeader.CODE_OFFSET, (byte)code);
        frame.putShort(icmp + IcmpHeader.CHECKSUM_OFFSET, (short)0, BIG_ENDIAN);
        frame.putInt(icmp + IcmpHeader.IDENTIFIER_OFFSET, rest, BIG_ENDIAN);
        frame.putBytes(icmp + IcmpHeader.HEADER_LENGTH, quoted, EthernetHeader.HEADER_LENGTH, quoteLength);
        final int icmpLength = IcmpHeader.HEADER_LENGTH + quoteLength;
        frame.putShort(icmp + IcmpHeader.CHECKSUM_OFFSET, (short)Checksums.icmpChecksum(frame, icmp, icmpLength), BIG_ENDIAN);
        return icmp + icmpLength;
    }

    /**
     * Writes an Ethernet/IPv6/ICMPv6 error at index 0 quoting {@code quoteLength} bytes of the IPv6
     * packet in {@code quoted} (a frame, its IPv6 header at 14), hop limit 64, with a valid checksum; returns its length.
     *
     * @param word the 32 bits after the checksum (the MTU for packet too big).
     */
    static int icmpv6Error(final UnsafeBuffer frame, final long dstMac, final long srcMac, final long srcHigh,
        final long srcLow, final long dstHigh, final long dstLow, final int type, final int code, final int word,
        final byte[] quoted, final int quoteLength)
    {
        final int icmpLength = Icmpv6Header.HEADER_LENGTH + quoteLength;
        final int ip = EthernetHeader.write(frame, 0, dstMac, srcMac, Ipv6Header.ETHER_TYPE_IPV6);
        final int icmp = ip + Ipv6Header.write(frame, ip, icmpLength, Icmpv6Header.PROTOCOL_ICMPV6, 64, srcHigh, srcLow,
            dstHigh, dstLow);
        frame.putByte(icmp + Icmpv6Header.TYPE_OFFSET, (byte)type);
        frame.putByte(icmp + Icmpv6Header.CODE_OFFSET, (byte)code);
        frame.putShort(icmp + Icmpv6Header.CHECKSUM_OFFSET, (short)0, BIG_ENDIAN);
        frame.putInt(icmp + Icmpv6Header.ERROR_WORD_OFFSET, word, BIG_ENDIAN);
        frame.putBytes(icmp + Icmpv6Header.HEADER_LENGTH, quoted, EthernetHeader.HEADER_LENGTH, quoteLength);
        frame.putShort(icmp + Icmpv6Header.CHECKSUM_OFFSET,
            (short)Checksums.ipv6L4Checksum(frame, ip, icmp, icmpLength, Icmpv6Header.PROTOCOL_ICMPV6), BIG_ENDIAN);
        return icmp + icmpLength;
    }

    /** Mutates most frames as the accounting tests do: flips up to three bits, sometimes cuts the frame short; returns the new length. */
    static int mutate(final UnsafeBuffer frame, final int length, final java.util.Random random)
    {
        final int flips = random.nextInt(4);
        for (int f = 0; f < flips; f++)
        {
            final int at = random.nextInt(length);
            frame.putByte(at, (byte)(frame.getByte(at) ^ (1 << random.nextInt(8))));
        }
        return random.nextInt(8) == 0 ? random.nextInt(length + 1) : length;
    }

    /** Ethernet/IPv6/TCP or UDP with valid checksum (computed by lb's Checksums, verified below by the reference). */
    static int ipv6L4(final UnsafeBuffer frame, final long dstMac, final long srcMac, final long srcHigh, final long srcLow, final long dstHigh,
        final long dstLow, final int protocol, final int sport, final int dport, final int flags, final int payload)
    {
        final int headerLength = protocol == 6 ? 20 : 8;
        final int ip = EthernetHeader.write(frame, 0, dstMac, srcMac, Ipv6Header.ETHER_TYPE_IPV6);
        final int l4 = ip + Ipv6Header.write(frame, ip, headerLength + payload, protocol, 64, srcHigh, srcLow, dstHigh, dstLow);
        frame.setMemory(l4, headerLength + payload, (byte)0);
        frame.putShort(l4, (short)sport, BIG_ENDIAN);
        frame.putShort(l4 + 2, (short)dport, BIG_ENDIAN);
        if (protocol == 6)
        {
            frame.putInt(l4 + TcpHeader.SEQUENCE_OFFSET, 0x2000_0000 + sport, BIG_ENDIAN);
            frame.putByte(l4 + TcpHeader.DATA_OFFSET_OFFSET, (byte)0x50);
            frame.putByte(l4 + TcpHeader.FLAGS_OFFSET, (byte)flags);
            frame.putShort(l4 + TcpHeader.WINDOW_OFFSET, (short)65535, BIG_ENDIAN);
        }
        else
        {
            frame.putShort(l4 + 4, (short)(8 + payload), BIG_ENDIAN);
        }
        for (int i = 0; i < payload; i++)
        {
            frame.putByte(l4 + headerLength + i, (byte)(i * 5 + sport));
        }
        frame.putShort(l4 + Checksums.l4ChecksumOffset(protocol),
            (short)Checksums.ipv6L4Checksum(frame, ip, l4, headerLength + payload, protocol), BIG_ENDIAN);
        return l4 + headerLength + payload;
    }
}
